// /runs/ID: one run's figures, the containers it took (with their signer
// and verdict, each linked to the evidence store for auditors), its
// failures and the users it could not map.
import { ApiError } from '../api/client';
import { useRun, type Run } from '../api/queries';
import { isAuditor, useSignedIn } from '../api/session';
import { Link, seg } from '../router';
import { ErrorAlert, Loading, Status, Time } from '../ui/bits';
import { formatCount, formatDuration } from '../ui/format';
import { PageHeading } from '../ui/page';
import { NotFoundPage } from './not-found';

export function RunPage({ id }: { id: string }) {
  const session = useSignedIn();
  const valid = /^[1-9]\d{0,15}$/.test(id);
  const run = useRun(valid ? id : '0');
  if (!valid || (run.error instanceof ApiError && run.error.status === 404)) return <NotFoundPage title="Run not found" message={`There is no run ${id} of a configured connector.`} />;
  const r = run.data;
  if (!r) {
    return (
      <>
        <PageHeading title={`Run ${id}`} />
        {run.isError ? <ErrorAlert error={run.error} /> : <Loading what="the run" />}
      </>
    );
  }
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/connectors">Data connectors</Link> <span aria-hidden="true">/</span> <Link to={`/connectors/${seg(r.connector)}`}>{r.connector}</Link>
      </p>
      <PageHeading
        title={`Run ${r.id} of ${r.connector}`}
        actions={
          r.pruned ? null : (
            <a className="button button-secondary" href={`/api/runs/${r.id}/log.csv`} download>
              Download log
            </a>
          )
        }
      >
        <p className="status-line">
          <Status value={r.status} />
          {r.code ? <code className="code">{r.code}</code> : null}
          {r.stoppedBy ? <span className="muted">stopped by {r.stoppedBy}</span> : null}
        </p>
      </PageHeading>
      {run.isError ? <ErrorAlert error={run.error} title="Refreshing failed." /> : null}
      <Figures r={r} />
      <Containers r={r} auditor={isAuditor(session)} />
      <Failures r={r} />
      {r.unmapped.length > 0 ? <Unmapped r={r} /> : null}
    </>
  );
}

function Figures({ r }: { r: Run }) {
  const s = r.summary;
  const figure = (label: string, value: number | null | undefined, bad = false) => (
    <div className={bad && value ? 'figure figure-bad' : 'figure'}>
      <dt>{label}</dt>
      <dd>{formatCount(value)}</dd>
    </div>
  );
  return (
    <section className="panel" aria-labelledby="figures-h">
      <h2 id="figures-h">Figures</h2>
      <dl className="figures">
        {figure('Items available from source', s?.itemsAvailableFromSource)}
        {figure('Items available for import', s?.itemsAvailableForImport)}
        {figure('Imported', s?.imported)}
        {figure('Partially imported', s?.partiallyImported, true)}
        {figure('Duplicates skipped', s?.skippedDuplicates)}
        {figure('Failed', s?.failed, true)}
      </dl>
      <dl className="properties properties-inline">
        <div>
          <dt>Trigger</dt>
          <dd>{r.trigger ?? '—'}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <Time iso={r.startedAt} seconds />
          </dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>
            <Time iso={r.finishedAt} seconds />
          </dd>
        </div>
        <div>
          <dt>Took</dt>
          <dd>{formatDuration(r.startedAt, r.finishedAt)}</dd>
        </div>
      </dl>
      {r.pruned ? <p className="section-note">This run's item lines were pruned: its figures remain, its log does not.</p> : null}
    </section>
  );
}

function Containers({ r, auditor }: { r: Run; auditor: boolean }) {
  return (
    <section className="panel" aria-labelledby="containers-h">
      <h2 id="containers-h">Containers</h2>
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Containers</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">SHA-256</th>
              <th scope="col">Signer</th>
              <th scope="col">Verdict</th>
              <th scope="col" className="num">
                Items
              </th>
              <th scope="col">Evidence</th>
            </tr>
          </thead>
          <tbody>
            {r.containers.length === 0 ? (
              <tr>
                <td colSpan={6} className="empty">
                  No containers in this run
                </td>
              </tr>
            ) : (
              r.containers.map((c, i) => (
                <tr key={`${c.file}-${i}`}>
                  <td className="nowrap">{c.file}</td>
                  <td>{c.sha256 ? <code className="hash">{c.sha256}</code> : '—'}</td>
                  <td className="wrap-anywhere">{c.signer ?? '—'}</td>
                  <td>
                    {c.ok ? (
                      <span className="verdict verdict-ok">verified</span>
                    ) : (
                      <>
                        <span className="verdict verdict-bad">rejected</span> <code className="code">{c.code}</code>
                        {c.message ? <span className="cell-note">{c.message}</span> : null}
                      </>
                    )}
                  </td>
                  <td className="num">{formatCount(c.items)}</td>
                  <td>{!c.sha256 ? '—' : auditor ? <Link to={`/evidence/${c.sha256}`}>Evidence</Link> : <span className="muted">auditors only</span>}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Failures({ r }: { r: Run }) {
  return (
    <section className="panel" aria-labelledby="run-failures-h">
      <h2 id="run-failures-h">Failures</h2>
      {r.failuresTotal > r.failures.length ? (
        <p className="section-note">
          The first {formatCount(r.failures.length)} of {formatCount(r.failuresTotal)} failures; the log has them all.
        </p>
      ) : null}
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Failures</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Mailbox</th>
              <th scope="col">Code</th>
              <th scope="col">Reason</th>
              <th scope="col">Where</th>
            </tr>
          </thead>
          <tbody>
            {r.failures.length === 0 ? (
              <tr>
                <td colSpan={5} className="empty">
                  No failures
                </td>
              </tr>
            ) : (
              r.failures.map((f, i) => (
                <tr key={i}>
                  <td className="wrap-anywhere">{f.itemId ?? '—'}</td>
                  <td className="wrap-anywhere">{f.mailbox ?? '—'}</td>
                  <td>
                    <code className="code">{f.code}</code>
                  </td>
                  <td>{f.reason}</td>
                  <td className="wrap-anywhere muted">{f.file ? `${f.file}${f.entry ? ` › ${f.entry}` : ''}${f.line != null ? `:${f.line}` : ''}` : '—'}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Unmapped({ r }: { r: Run }) {
  return (
    <section className="panel" aria-labelledby="unmapped-h">
      <h2 id="unmapped-h">Unmapped users</h2>
      <div className="table-wrap">
        <table className="table table-compact">
          <caption className="visually-hidden">Unmapped users</caption>
          <thead>
            <tr>
              <th scope="col">Source user</th>
              <th scope="col">Email</th>
              <th scope="col" className="num">
                Items
              </th>
            </tr>
          </thead>
          <tbody>
            {r.unmapped.map((u, i) => (
              <tr key={i}>
                <td>{u.sourceId ?? '—'}</td>
                <td>{u.email ?? '—'}</td>
                <td className="num">{formatCount(u.items)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
