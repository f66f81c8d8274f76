// /evidence/SHA256 (auditor): a container as the evidence store keeps it —
// its digest, size, when it was stored, the verdict reached on it, and
// whether the file is still intact (its SHA-256 read again for this page).
import { useQuery } from '@tanstack/react-query';
import { api, ApiError, call, type Schemas } from '../api/client';
import { Link, seg } from '../router';
import { ErrorAlert, Loading, Time } from '../ui/bits';
import { formatBytes } from '../ui/format';
import { PageHeading } from '../ui/page';
import { NotFoundPage } from './not-found';

type Evidence = Schemas['Evidence'];

export function EvidencePage({ sha256 }: { sha256: string }) {
  const valid = /^[0-9a-f]{64}$/.test(sha256);
  const evidence = useQuery({ queryKey: ['evidence', sha256], queryFn: () => call(api.GET('/api/evidence/{sha256}', { params: { path: { sha256 } } })), enabled: valid });
  if (!valid || (evidence.error instanceof ApiError && evidence.error.status === 404)) {
    return <NotFoundPage title="Evidence not found" message="The evidence store holds no file with this SHA-256." />;
  }
  const e = evidence.data;
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/connectors">Data connectors</Link>
        {e ? (
          <>
            {' '}
            <span aria-hidden="true">/</span> <Link to={`/connectors/${seg(e.firstConnector)}`}>{e.firstConnector}</Link>
          </>
        ) : null}
      </p>
      <PageHeading
        title="Evidence"
        actions={
          e ? (
            <a className="button button-secondary" href={`/api/evidence/${sha256}/file`} download>
              Download file
            </a>
          ) : null
        }
      >
        <p className="lede">The container exactly as it was received, kept in the evidence store.</p>
      </PageHeading>
      {evidence.isError ? <ErrorAlert error={evidence.error} /> : null}
      {evidence.isPending ? <Loading what="the evidence" /> : null}
      {e ? <Record e={e} /> : null}
    </>
  );
}

function Record({ e }: { e: Evidence }) {
  return (
    <section className="panel" aria-labelledby="evidence-h">
      <h2 id="evidence-h">Container</h2>
      <dl className="properties">
        <div className="property-wide">
          <dt>SHA-256</dt>
          <dd>
            <code className="hash">{e.sha256}</code>
          </dd>
        </div>
        <div>
          <dt>File</dt>
          <dd className="wrap-anywhere">{e.firstName}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>
            {formatBytes(e.size)} <span className="muted">({e.size.toLocaleString()} bytes)</span>
          </dd>
        </div>
        <div>
          <dt>Stored at</dt>
          <dd>
            <Time iso={e.storedAt} seconds />
          </dd>
        </div>
        <div>
          <dt>Connector</dt>
          <dd>{e.firstConnector}</dd>
        </div>
        <div>
          <dt>Verdict</dt>
          <dd>
            <span className={`verdict ${e.verdict === 'rejected' ? 'verdict-bad' : e.verdict === 'imported' ? 'verdict-ok' : ''}`}>{e.verdict}</span>
            {e.code ? (
              <>
                {' '}
                <code className="code">{e.code}</code>
              </>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Run</dt>
          <dd>{e.processedInRun !== null ? <Link to={`/runs/${e.processedInRun}`}>Run {e.processedInRun}</Link> : '—'}</dd>
        </div>
        <div>
          <dt>Signature</dt>
          <dd>{e.container ? (e.container.ok ? 'verified' : `rejected${e.container.code ? ` (${e.container.code})` : ''}`) : 'never verified'}</dd>
        </div>
        <div>
          <dt>Intact</dt>
          <dd>
            {e.intact ? (
              <span className="verdict verdict-ok">yes: the stored file still has this SHA-256</span>
            ) : (
              <span className="verdict verdict-bad">no: the stored file is missing or changed</span>
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
}
