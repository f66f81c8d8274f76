// /connectors/NAME: a connector's status and properties, what to do with it
// (run, pause or resume, edit, remove), its items per day, its runs and the
// latest failures with their reasons.
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError, call } from '../api/client';
import { keys, runAsked, useConnector, useDaily, type Connector } from '../api/queries';
import { isAdmin, useSignedIn } from '../api/session';
import { Link, navigate, seg } from '../router';
import { ErrorAlert, Loading, Status, Time } from '../ui/bits';
import { DailyChart } from '../ui/daily-chart';
import { Dialog } from '../ui/dialog';
import { formatCount } from '../ui/format';
import { PageHeading } from '../ui/page';
import { Runs } from './connector-runs';
import { NotFoundPage } from './not-found';

export function ConnectorPage({ name }: { name: string }) {
  const session = useSignedIn();
  const connector = useConnector(name);
  const c = connector.data;
  if (connector.isError && connector.error instanceof ApiError && connector.error.status === 404) {
    return <NotFoundPage title="Connector not found" message={`There is no connector named “${name}”. It may have been removed.`} />;
  }
  if (!c) {
    return (
      <>
        <PageHeading title={name} />
        {connector.isError ? <ErrorAlert error={connector.error} /> : <Loading what="the connector" />}
      </>
    );
  }
  const running = c.status === 'running';
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/connectors">Data connectors</Link>
      </p>
      <PageHeading title={c.name} actions={isAdmin(session) ? <Actions c={c} /> : null}>
        <p className="status-line">
          <Status value={c.status} />
          <span className="muted">
            {c.status === 'running' ? 'a run is in progress' : c.status === 'paused' ? 'scheduled runs are paused' : c.status === 'failing' ? 'the last run did not succeed' : 'the last run succeeded'}
          </span>
        </p>
      </PageHeading>
      {connector.isError ? <ErrorAlert error={connector.error} title="Refreshing failed; the figures below may be old." /> : null}
      <Properties c={c} />
      <Daily name={c.name} running={running} />
      <Runs name={c.name} running={running} />
    </>
  );
}

function Actions({ c }: { c: Connector }) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const path = { params: { path: { name: c.name } } };

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      setNotice(await what());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      await Promise.all([client.invalidateQueries({ queryKey: keys.connector(c.name) }), client.invalidateQueries({ queryKey: keys.runs(c.name) }), client.invalidateQueries({ queryKey: keys.connectors })]);
    }
  };
  const runNow = () =>
    act(async () => {
      runAsked();
      const answer = await call(api.POST('/api/connectors/{name}/run', path));
      return answer.runId ? `Run ${answer.runId} started.` : 'Run started.';
    });
  const pause = () => act(async () => (await call(api.POST('/api/connectors/{name}/pause', path)), 'Scheduled runs paused.'));
  const resume = () => act(async () => (await call(api.POST('/api/connectors/{name}/resume', path)), 'Scheduled runs resumed.'));

  return (
    <div className="actions">
      <div className="button-row">
        <button type="button" className="button button-primary" onClick={() => void runNow()} disabled={busy || c.status === 'running'}>
          Run now
        </button>
        {c.paused ? (
          <button type="button" className="button button-secondary" onClick={() => void resume()} disabled={busy}>
            Resume
          </button>
        ) : (
          <button type="button" className="button button-secondary" onClick={() => void pause()} disabled={busy}>
            Pause
          </button>
        )}
        <Link to={`/connectors/${seg(c.name)}/edit`} className="button button-secondary">
          Edit
        </Link>
        <button type="button" className="button button-danger-quiet" onClick={() => setRemoving(true)} disabled={busy}>
          Remove
        </button>
      </div>
      <div className="action-result" role="status">
        {notice}
      </div>
      {error ? <ErrorAlert error={error} /> : null}
      {removing ? <RemoveDialog name={c.name} onClose={() => setRemoving(false)} /> : null}
    </div>
  );
}

function RemoveDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const client = useQueryClient();
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await call(api.DELETE('/api/connectors/{name}', { params: { path: { name } }, body: { confirm: typed } }));
      client.removeQueries({ queryKey: keys.connector(name) });
      await client.invalidateQueries({ queryKey: keys.connectors });
      navigate('/connectors');
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Dialog title="Remove connector" onClose={onClose} initialFocus="#remove-confirm">
      <p>
        This removes the configuration of <strong>{name}</strong>: it will not run again. Its runs, logs and evidence stay, and so does the mail it
        delivered.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (typed === name) void remove();
        }}
      >
        <div className="field">
          <label htmlFor="remove-confirm">Type the connector's name to confirm</label>
          <input id="remove-confirm" autoComplete="off" spellCheck={false} value={typed} onChange={(e) => setTyped(e.target.value)} />
        </div>
        {error ? <ErrorAlert error={error} /> : null}
        <div className="button-row button-row-end">
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-danger" disabled={typed !== name || busy}>
            Remove connector
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function Properties({ c }: { c: Connector }) {
  const cfg = c.config;
  const directory = 'graph' in cfg.directory ? `${cfg.directory.graph} (read at each run)` : cfg.directory.file;
  const secretsOf = [
    ...Object.entries(cfg.source).filter(([k, v]) => ['password', 'privateKey', 'passphrase', 'secret'].includes(k) && v),
    ...(cfg.target.password ? [['password']] : []),
  ].length;
  return (
    <section className="panel" aria-labelledby="properties-h">
      <h2 id="properties-h">Properties</h2>
      <dl className="properties">
        <div>
          <dt>Source</dt>
          <dd className="wrap-anywhere">{c.source}</dd>
        </div>
        <div>
          <dt>Destination</dt>
          <dd className="wrap-anywhere">{c.target}</dd>
        </div>
        <div>
          <dt>Folder</dt>
          <dd>{cfg.folder}</dd>
        </div>
        <div>
          <dt>Schedule</dt>
          <dd>
            <code>{cfg.schedule}</code> <span className="muted">({cfg.timezone ?? 'the server’s time zone'})</span>
          </dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd>{c.paused ? 'paused' : <Time iso={c.nextRun} />}</dd>
        </div>
        <div>
          <dt>Last run</dt>
          <dd>
            {c.lastRun ? (
              <>
                <Link to={`/runs/${c.lastRun.id}`}>Run {c.lastRun.id}</Link>, <Time iso={c.lastRun.startedAt} />
                {c.lastRun.code ? <> ({c.lastRun.code})</> : null}
              </>
            ) : (
              'never'
            )}
          </dd>
        </div>
        <div>
          <dt>Trust anchors</dt>
          <dd className="wrap-anywhere">{cfg.trust.map((t) => t.file).join(', ')}</dd>
        </div>
        <div>
          <dt>Directory</dt>
          <dd className="wrap-anywhere">{directory}</dd>
        </div>
        <div>
          <dt>Custom mapping</dt>
          <dd className="wrap-anywhere">{cfg.mapping ? cfg.mapping.file : 'none (by each participant’s Email property)'}</dd>
        </div>
        {cfg.catchAll ? (
          <div>
            <dt>Catch-all mailbox</dt>
            <dd>{cfg.catchAll}</dd>
          </div>
        ) : null}
        <div>
          <dt>Secrets</dt>
          <dd>{secretsOf > 0 || cfg.target.app ? 'set (never shown)' : 'none'}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time iso={c.createdAt} />
          </dd>
        </div>
        <div>
          <dt>Changed</dt>
          <dd>
            <Time iso={c.updatedAt} />
          </dd>
        </div>
      </dl>
    </section>
  );
}

function Daily({ name, running }: { name: string; running: boolean }) {
  const daily = useDaily(name, running);
  const days = daily.data?.days ?? [];
  const newestFirst = [...days].reverse();
  return (
    <section className="panel" aria-labelledby="daily-h">
      <h2 id="daily-h">Items per day</h2>
      {daily.isError ? <ErrorAlert error={daily.error} /> : null}
      {daily.isPending ? <Loading what="the items per day" /> : null}
      {daily.data ? (
        <div className="daily">
          <DailyChart days={days} />
          <div className="table-wrap table-scroll" tabIndex={0} role="group" aria-label="Items per day, as a table">
            <table className="table table-compact">
              <caption>Items per day</caption>
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  <th scope="col" className="num">
                    Imported
                  </th>
                  <th scope="col" className="num">
                    Duplicates
                  </th>
                  <th scope="col" className="num">
                    Failed
                  </th>
                </tr>
              </thead>
              <tbody>
                {newestFirst.length === 0 ? (
                  <tr>
                    <td colSpan={4} className="empty">
                      No days to show
                    </td>
                  </tr>
                ) : (
                  newestFirst.map((d) => (
                    <tr key={d.day} className={d.runs === 0 ? 'row-quiet' : undefined}>
                      <td className="nowrap">
                        <time dateTime={d.day}>{d.day}</time>
                      </td>
                      <td className="num">{formatCount(d.imported)}</td>
                      <td className="num">{formatCount(d.duplicates)}</td>
                      <td className={`num${d.failed ? ' num-bad' : ''}`}>{formatCount(d.failed)}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}
    </section>
  );
}
