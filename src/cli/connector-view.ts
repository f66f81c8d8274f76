// xip connector list | show NAME | runs NAME | log NAME [--run ID] [--csv]:
// what an admin watches. `log --csv` is the downloadable log (RFC 4180,
// formula-safe: connector/connector-log.ts), with every failure of the run
// from the ledger, not only the capped list kept in the run's JSON.
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { processIsAlive } from '../connector/lease.js';
import { redacted, type ConnectorConfig } from '../connector/config.js';
import { connectorLogCsv, formatConnectorLog, summarize, type ConnectorRunLog } from '../connector/connector-log.js';
import type { RunLogJson } from '../connector/run-log.js';
import { XipError } from '../errors.js';
import { openConfig } from '../home/connectors.js';
import { nextRun as nextRunOf } from '../home/schedule.js';
import type { ConnectorRun, ConnectorStore } from '../ports/connector-store.js';
import type { Ledger } from '../ports/ledger.js';
import { withInstallation } from './connector.js';
import { EXIT_OK } from './exit.js';
import type { Output } from './io.js';
import { wholeFlag } from './options.js';

type Act = (json: boolean | undefined, body: () => Promise<number>) => Promise<void>;

export function nextRun(config: ConnectorConfig, paused: boolean): Date | null {
  if (paused) return null;
  return nextRunOf(config);
}

function sourceText(config: ConnectorConfig): string {
  const s = config.source;
  if (s.kind === 'folder') return s.path;
  if (s.kind === 'sftp') return `sftp://${s.username}@${s.host}:${s.port}${s.path.startsWith('/') ? '' : '/'}${s.path}`;
  return s.url;
}

/** A run not finished is running while its lease holds and, on this host, its process lives; else it was interrupted. */
export function runStatus(run: ConnectorRun, now = new Date()): string {
  if (run.finishedAt === null) {
    const live = run.leaseUntil !== null && run.leaseUntil > now && (run.host !== hostname() || (run.pid !== null && processIsAlive(run.pid)));
    return live ? 'running' : 'interrupted';
  }
  return run.ok ? 'succeeded' : run.code ? `failed (${run.code})` : 'completed with errors';
}

function asRunLog(run: ConnectorRun): ConnectorRunLog {
  return { runId: run.id, connector: run.connector, trigger: run.trigger, startedAt: run.startedAt, completedAt: run.finishedAt, ok: run.ok, code: run.code, log: (run.log as RunLogJson | null) ?? null };
}

export function runJson(run: ConnectorRun): Record<string, unknown> {
  const log = run.log as RunLogJson | null;
  return {
    id: run.id,
    trigger: run.trigger,
    status: runStatus(run),
    startedAt: run.startedAt.toISOString(),
    completedAt: run.finishedAt?.toISOString() ?? null,
    code: run.code,
    pruned: run.pruned,
    ...(log ? { summary: summarize(log), containers: log.containers.length, rejected: log.containers.filter((c) => !c.ok).length } : {}),
  };
}

async function pickRun(store: ConnectorStore, name: string, id: string | undefined): Promise<ConnectorRun> {
  if (id !== undefined) {
    if (!/^\d{1,15}$/.test(id)) throw new XipError('USAGE', `--run must be a run id (xip connector runs ${name} lists them), got "${id.slice(0, 40)}"`);
    const run = await store.getRun(name, Number(id));
    if (!run) throw new XipError('USAGE', `connector ${name} has no run ${id} (xip connector runs ${name} lists them)`);
    return run;
  }
  const [latest] = await store.listRuns(name, 1);
  if (!latest) throw new XipError('USAGE', `connector ${name} has not run yet (xip connector run ${name} runs it now)`);
  return latest;
}

async function allFailures(ledger: Ledger, run: ConnectorRun) {
  return run.log ? await ledger.getFailures(run.id) : [];
}

export function registerConnectorViews(connector: Command, io: Output, act: Act, env: NodeJS.ProcessEnv): void {
  registerListAndShow(connector, io, act, env);
  registerRunsAndLog(connector, io, act, env);
}

/** list and show: the connectors. */
function registerListAndShow(connector: Command, io: Output, act: Act, env: NodeJS.ProcessEnv): void {
  connector
    .command('list')
    .option('--json', 'print one JSON object')
    .description('every connector, with its schedule and last run')
    .action((flags: { json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const rows = [];
          for (const row of await state.store.listConnectors()) {
            const config = openConfig(row.config, state.box);
            const [last] = await state.store.listRuns(row.name, 1);
            rows.push({ name: row.name, source: sourceText(config), schedule: config.schedule, paused: row.paused, nextRun: nextRun(config, row.paused)?.toISOString() ?? null, lastRun: last ? runJson(last) : null });
          }
          if (flags.json) io.out(JSON.stringify({ connectors: rows }));
          else if (rows.length === 0) io.out('no connectors yet: xip connector add NAME --source … --trust … --directory … --to …');
          else for (const r of rows) io.out(`${r.name}  ${r.paused ? 'paused' : `next ${r.nextRun}`}  last: ${r.lastRun ? `${r.lastRun.status} ${r.lastRun.startedAt}` : 'never'}  ${r.source}`);
          return EXIT_OK;
        }),
      ),
    );

  connector
    .command('show')
    .argument('<name>')
    .option('--json', 'print one JSON object')
    .description('its configuration (secrets never shown) and last run')
    .action((name: string, flags: { json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const row = await state.store.getConnector(name);
          if (!row) throw new XipError('CONNECTOR_NOT_FOUND', `there is no connector named "${name}"`);
          const config = openConfig(row.config, state.box);
          const [last] = await state.store.listRuns(name, 1);
          const shown = { ...redacted(config), trust: config.trust.map((t) => t.file), crls: config.crls.map((c) => c.file), directory: 'graph' in config.directory ? config.directory.graph : config.directory.file, mapping: config.mapping?.file ?? null };
          const out = { name, paused: row.paused, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(), nextRun: nextRun(config, row.paused)?.toISOString() ?? null, config: shown, lastRun: last ? runJson(last) : null };
          if (flags.json) io.out(JSON.stringify(out));
          else io.out(...JSON.stringify(out, null, 2).split('\n'));
          return EXIT_OK;
        }),
      ),
    );
}

/** runs and log: what each run did. */
function registerRunsAndLog(connector: Command, io: Output, act: Act, env: NodeJS.ProcessEnv): void {
  connector
    .command('runs')
    .argument('<name>')
    .option('--limit <n>', 'at most this many, newest first', '50')
    .option('--json', 'print one JSON object')
    .description('its runs, newest first')
    .action((name: string, flags: { limit: string; json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const runs = (await state.store.listRuns(name, wholeFlag('--limit', flags.limit))).map(runJson);
          if (flags.json) io.out(JSON.stringify({ name, runs }));
          else if (runs.length === 0) io.out(`connector ${name} has not run yet`);
          else for (const r of runs) io.out(runLine(r));
          return EXIT_OK;
        }),
      ),
    );

  connector
    .command('log')
    .argument('<name>')
    .option('--run <id>', 'that run (default: the latest)')
    .option('--csv', 'the downloadable log: CSV (RFC 4180)')
    .option('--json', 'print one JSON object')
    .description("a run's log: what it took, imported, skipped and failed, and why")
    .action((name: string, flags: { run?: string; csv?: boolean; json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const run = await pickRun(state.store, name, flags.run);
          const failures = await allFailures(state.ledger, run);
          if (flags.csv) process.stdout.write(connectorLogCsv([{ run: asRunLog(run), failures }]));
          else if (flags.json) io.out(JSON.stringify({ ...runJson(run), log: run.log, failures }));
          else io.out(...formatConnectorLog(asRunLog(run), failures));
          return EXIT_OK;
        }),
      ),
    );
}

function runLine(r: Record<string, unknown>): string {
  const s = r.summary as ReturnType<typeof summarize> | undefined;
  const figures = s ? `from source ${s.itemsAvailableFromSource}, for import ${s.itemsAvailableForImport}, imported ${s.imported}, skipped ${s.skippedDuplicates}, failed ${s.failed}` : r.pruned ? 'log pruned' : '';
  return `run ${r.id}  ${r.status}  ${r.startedAt} → ${r.completedAt ?? '—'}  ${r.trigger ?? ''}  ${figures}`;
}
