// /audit (auditor): the append-only audit trail, newest first, a page at a
// time, filtered by actor and target; the same filter exports it as CSV.
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, call } from '../api/client';
import { ErrorAlert, Loading, Time } from '../ui/bits';
import { PageHeading } from '../ui/page';

const PAGE = 50;

export function AuditPage() {
  const [actor, setActor] = useState('');
  const [target, setTarget] = useState('');
  const [filter, setFilter] = useState<{ actor?: string; target?: string }>({});
  const [pages, setPages] = useState<number[]>([]);
  const before = pages.at(-1);
  const trail = useQuery({
    queryKey: ['audit', filter, before],
    queryFn: () => call(api.GET('/api/audit', { params: { query: { ...filter, limit: PAGE, ...(before !== undefined ? { before } : {}) } } })),
    placeholderData: (previous) => previous,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setPages([]);
    setFilter({ ...(actor.trim() ? { actor: actor.trim() } : {}), ...(target.trim() ? { target: target.trim() } : {}) });
  };
  const csv = `/api/audit.csv${new URLSearchParams(filter).size > 0 ? `?${new URLSearchParams(filter).toString()}` : ''}`;
  const entries = trail.data?.entries;
  return (
    <>
      <PageHeading
        title="Audit trail"
        actions={
          <a className="button button-secondary" href={csv} download>
            Export CSV
          </a>
        }
      >
        <p className="lede">Every sign-in and every change, who made it and from where. Entries can be neither changed nor deleted.</p>
      </PageHeading>
      <form className="filters" onSubmit={apply} aria-label="Filter the audit trail">
        <div className="field">
          <label htmlFor="audit-actor">Actor</label>
          <input id="audit-actor" value={actor} onChange={(e) => setActor(e.target.value)} spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="audit-target">Target</label>
          <input id="audit-target" value={target} onChange={(e) => setTarget(e.target.value)} spellCheck={false} />
        </div>
        <div className="filters-actions">
          <button type="submit" className="button button-secondary">
            Filter
          </button>
          {filter.actor || filter.target ? (
            <button
              type="button"
              className="button button-quiet"
              onClick={() => {
                setActor('');
                setTarget('');
                setPages([]);
                setFilter({});
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>
      {trail.isError ? <ErrorAlert error={trail.error} /> : null}
      {trail.isPending ? <Loading what="the audit trail" /> : null}
      {entries ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Audit trail</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Address</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.length === 0 ? (
                <tr>
                  <td colSpan={6} className="empty">
                    No entries{filter.actor || filter.target ? ' match this filter' : ''}
                  </td>
                </tr>
              ) : (
                entries.map((e) => (
                  <tr key={e.seq}>
                    <td className="nowrap">
                      <Time iso={e.at} seconds />
                    </td>
                    <td className="wrap-anywhere">{e.actor}</td>
                    <td>
                      <span className="action-name">{e.action}</span>
                    </td>
                    <td className="wrap-anywhere">{e.target ?? '—'}</td>
                    <td>{e.address ?? '—'}</td>
                    <td className="details">{details(e.detail)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      ) : null}
      <div className="button-row pager">
        <button type="button" className="button button-secondary button-small" disabled={pages.length === 0} onClick={() => setPages(pages.slice(0, -1))}>
          Newer
        </button>
        <button type="button" className="button button-secondary button-small" disabled={!trail.data?.next} onClick={() => trail.data?.next && setPages([...pages, trail.data.next])}>
          Older
        </button>
      </div>
    </>
  );
}

function details(detail: Record<string, unknown>): string {
  const parts = Object.entries(detail).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length > 0 ? parts.join(', ') : '—';
}
