// A connector's page, below its chart: its runs (a page at a time, each with
// its log) and the failures of its newest run that has any.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import { keys, useRun, useRuns, type RunListItem } from '../api/queries';
import { Link } from '../router';
import { ErrorAlert, Loading, Status, Time } from '../ui/bits';
import { formatCount } from '../ui/format';

const hasFailures = (r: RunListItem) => (r.summary?.failed ?? 0) > 0;

export function Runs({ name, running }: { name: string; running: boolean }) {
  const [before, setBefore] = useState<number[]>([]);
  const page = before.at(-1);
  const runs = useRuns(name, running);
  const older = useQuery({
    queryKey: [...keys.runs(name), page],
    queryFn: () => call(api.GET('/api/connectors/{name}/runs', { params: { path: { name }, query: { limit: 20, before: page } } })),
    enabled: page !== undefined,
  });
  const shown = page === undefined ? runs : older;
  const list = shown.data?.runs;
  const newestFailing = runs.data?.runs.find(hasFailures);
  return (
    <>
      <section className="panel" aria-labelledby="runs-h">
        <h2 id="runs-h">Runs</h2>
        {shown.isError ? <ErrorAlert error={shown.error} /> : null}
        {shown.isPending ? <Loading what="the runs" /> : null}
        {list ? (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Runs</caption>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">Finished</th>
                  <th scope="col" className="num">
                    Imported
                  </th>
                  <th scope="col" className="num">
                    Duplicates
                  </th>
                  <th scope="col" className="num">
                    Failed
                  </th>
                  <th scope="col">Log</th>
                </tr>
              </thead>
              <tbody>
                {list.length === 0 ? (
                  <tr>
                    <td colSpan={9} className="empty">
                      No runs yet
                    </td>
                  </tr>
                ) : (
                  list.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <Link to={`/runs/${r.id}`}>{r.id}</Link>
                      </td>
                      <td>{r.trigger ?? '—'}</td>
                      <td>
                        <Status value={r.status} />
                        {r.code ? <span className="cell-note">{r.code}</span> : null}
                      </td>
                      <td>
                        <Time iso={r.startedAt} />
                      </td>
                      <td>
                        <Time iso={r.finishedAt} />
                      </td>
                      <td className="num">{formatCount(r.summary?.imported)}</td>
                      <td className="num">{formatCount(r.summary?.skippedDuplicates)}</td>
                      <td className={`num${hasFailures(r) ? ' num-bad' : ''}`}>{formatCount(r.summary?.failed)}</td>
                      <td>
                        {r.pruned ? (
                          <span className="muted">pruned</span>
                        ) : (
                          <a href={`/api/runs/${r.id}/log.csv`} download>
                            Download log
                          </a>
                        )}
                      </td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        ) : null}
        {before.length > 0 || shown.data?.next ? (
          <div className="button-row pager">
            <button type="button" className="button button-secondary button-small" disabled={before.length === 0} onClick={() => setBefore(before.slice(0, -1))}>
              Newer
            </button>
            <button type="button" className="button button-secondary button-small" disabled={!shown.data?.next} onClick={() => shown.data?.next && setBefore([...before, shown.data.next])}>
              Older
            </button>
          </div>
        ) : null}
      </section>
      <LatestFailures runId={newestFailing?.id ?? null} />
    </>
  );
}

function LatestFailures({ runId }: { runId: number | null }) {
  return (
    <section className="panel" aria-labelledby="failures-h">
      <h2 id="failures-h">Latest failures</h2>
      {runId === null ? <FailureTable runId={null} /> : <FailuresOfRun runId={runId} />}
    </section>
  );
}

const SHOWN_FAILURES = 20;

function FailuresOfRun({ runId }: { runId: number }) {
  const run = useRun(String(runId));
  if (run.isError) return <ErrorAlert error={run.error} />;
  if (!run.data) return <Loading what="the failures" />;
  return <FailureTable runId={runId} run={run.data} />;
}

function FailureTable({ runId, run }: { runId: number | null; run?: NonNullable<ReturnType<typeof useRun>['data']> }) {
  const rows = (run?.failures ?? []).map((f) => ({ item: f.itemId ?? f.entry ?? f.file ?? '(the run)', mailbox: f.mailbox, code: f.code, reason: f.reason }));
  const total = run?.failuresTotal ?? 0;
  return (
    <>
      {run ? (
        <p className="section-note">
          From <Link to={`/runs/${runId}`}>run {runId}</Link>, <Time iso={run.startedAt} />: {formatCount(total)} {total === 1 ? 'failure' : 'failures'}
          {rows.length > SHOWN_FAILURES ? `, the first ${SHOWN_FAILURES} shown` : ''}.
        </p>
      ) : null}
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Latest failures</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Mailbox</th>
              <th scope="col">Code</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={4} className="empty">
                  No failures in the recent runs
                </td>
              </tr>
            ) : (
              rows.slice(0, SHOWN_FAILURES).map((f, i) => (
                <tr key={i}>
                  <td className="wrap-anywhere">
                    <Link to={`/runs/${runId}`}>{f.item}</Link>
                  </td>
                  <td className="wrap-anywhere">{f.mailbox ?? '—'}</td>
                  <td>
                    <code className="code">{f.code}</code>
                  </td>
                  <td>{f.reason}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}
