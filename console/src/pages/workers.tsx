// The workers of the installation (issue 12), below the connectors list:
// every `xip serve` on this database, alive or not answering, what it is
// doing and when it last beat, from GET /api/workers (the fields of `xip
// status --json`), polled every 15 s like the list above.
import { useQuery } from '@tanstack/react-query';
import { api, call, type Schemas } from '../api/client';
import { SLOW_POLL_MS } from '../api/queries';
import { ErrorAlert, Loading, Time } from '../ui/bits';
import './workers.css';

export type Worker = Schemas['Worker'];

export const workersKey = ['workers'] as const;

export function useWorkers() {
  return useQuery({ queryKey: workersKey, queryFn: () => call(api.GET('/api/workers')), refetchInterval: SLOW_POLL_MS });
}

/** "12 s ago", "3 min ago", "5 h ago", "2 d ago": as `xip status` says it. */
export function formatAgo(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.floor(s / 60)} min ago`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function WorkersSection() {
  const workers = useWorkers();
  const list = workers.data?.workers;
  return (
    <section className="workers" aria-labelledby="workers-h">
      <h2 id="workers-h">Workers</h2>
      <p className="section-note">Each <code>xip serve</code> on this installation runs the connectors on their schedules; one that has not sent a heartbeat for three intervals is not answering.</p>
      {workers.isError ? <ErrorAlert error={workers.error} /> : null}
      {workers.isPending ? <Loading what="the workers" /> : null}
      {list ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Workers</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col" className="num">
                  PID
                </th>
                <th scope="col">State</th>
                <th scope="col">Doing</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {list.length === 0 ? (
                <tr>
                  <td colSpan={6} className="empty">
                    No worker has run in the last 24 hours.
                  </td>
                </tr>
              ) : (
                list.map((w) => <Row key={w.id} w={w} />)
              )}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function Row({ w }: { w: Worker }) {
  return (
    <tr>
      <th scope="row" className="wrap-anywhere" title={w.id}>
        {w.host}
      </th>
      <td className="num">{w.pid}</td>
      <td>{w.alive ? <span className="status status-healthy">alive</span> : <span className="status status-failing">not answering</span>}</td>
      <td>{w.doing ?? <span className="muted">—</span>}</td>
      <td>
        <time dateTime={w.heartbeatAt} title={w.heartbeatAt}>
          {formatAgo(w.heartbeatAgeSeconds)}
        </time>
      </td>
      <td>
        <Time iso={w.startedAt} />
      </td>
    </tr>
  );
}
