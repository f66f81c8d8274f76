// /connectors: every connector at a glance, as Microsoft's Data connectors
// page shows them, refreshed by polling (api/queries.ts); below, the workers
// that run them (pages/workers.tsx).
import { isAdmin, useSignedIn } from '../api/session';
import { useConnectors, type ConnectorListItem } from '../api/queries';
import { Link, seg } from '../router';
import { ErrorAlert, Loading, Status, Time } from '../ui/bits';
import { formatCount } from '../ui/format';
import { PageHeading } from '../ui/page';
import { WorkersSection } from './workers';

export function ConnectorsPage() {
  const session = useSignedIn();
  const connectors = useConnectors();
  const list = connectors.data?.connectors;
  return (
    <>
      <PageHeading
        title="Data connectors"
        actions={
          isAdmin(session) ? (
            <Link to="/connectors/new" className="button button-primary">
              Add connector
            </Link>
          ) : null
        }
      >
        <p className="lede">Signed XIP containers imported from each source into your compliance mailboxes, every item accounted for.</p>
      </PageHeading>
      {connectors.isError ? <ErrorAlert error={connectors.error} /> : null}
      {connectors.isPending ? <Loading what="the connectors" /> : null}
      {list ? (
        <div className="table-wrap">
          <table className="table">
            <caption>Connectors</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Source</th>
                <th scope="col">Last run</th>
                <th scope="col">Next run</th>
                <th scope="col" className="num">
                  Imported (last run)
                </th>
                <th scope="col" className="num">
                  Imported (total)
                </th>
                <th scope="col" className="num">
                  Failures (last run)
                </th>
              </tr>
            </thead>
            <tbody>
              {list.length === 0 ? (
                <tr>
                  <td colSpan={8} className="empty">
                    No connectors yet
                    {isAdmin(session) ? <>: add one to start importing.</> : '.'}
                  </td>
                </tr>
              ) : (
                list.map((c) => <Row key={c.name} c={c} />)
              )}
            </tbody>
          </table>
        </div>
      ) : null}
      <WorkersSection />
    </>
  );
}

function Row({ c }: { c: ConnectorListItem }) {
  return (
    <tr>
      <td>
        <Link to={`/connectors/${seg(c.name)}`} className="strong-link">
          {c.name}
        </Link>
      </td>
      <td>
        <Status value={c.status} />
      </td>
      <td className="wrap-anywhere">{c.configError ? <span className="muted">cannot be read: {c.configError.code}</span> : (c.source ?? '—')}</td>
      <td>
        {c.lastRun ? (
          <>
            <Time iso={c.lastRun.startedAt} />
            {c.lastRun.code ? <span className="cell-note">{c.lastRun.code}</span> : null}
          </>
        ) : (
          <span className="muted">never</span>
        )}
      </td>
      <td>{c.paused ? <span className="muted">paused</span> : <Time iso={c.nextRun} />}</td>
      <td className="num">{formatCount(c.lastRun?.imported)}</td>
      <td className="num">{formatCount(c.itemsImportedTotal)}</td>
      <td className={`num${c.failuresLastRun ? ' num-bad' : ''}`}>{formatCount(c.failuresLastRun)}</td>
    </tr>
  );
}
