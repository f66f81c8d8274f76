// Connectors as the API shows them: never a secret (the configuration
// redacted as `xip connector show` does; sources and targets described by
// their address only), with a status from their recent runs.
import { redacted, type ConnectorConfig, type ConnectorConfigInput } from '../connector/config.js';
import { ERROR_MESSAGES, XipError } from '../errors.js';
import { openConfig } from '../home/connectors.js';
import type { Home } from '../home/home.js';
import { nextRun as nextRunOf, zoneOf } from '../home/schedule.js';
import type { SecretBox } from '../home/secrets.js';
import { targetSpec } from '../home/wiring.js';
import type { ConnectorRow, ConnectorRun, ConnectorStore } from '../ports/connector-store.js';
import type { RunTally } from './run-tally.js';
import { iso, isLive, runLog, runSummary } from './run-views.js';

export type ConnectorStatus = 'healthy' | 'running' | 'failing' | 'paused';

/** How many of a connector's newest runs are read for its status. */
const RECENT_RUNS = 10;

export interface ViewContext {
  readonly connectors: ConnectorStore;
  readonly box: SecretBox;
  readonly home: Home;
  readonly tally: RunTally;
  readonly now: Date;
}

/** running (a run going) before paused before failing (the last finished run not ok) before healthy. */
export function connectorStatus(paused: boolean, recent: readonly ConnectorRun[], now: Date): ConnectorStatus {
  if (recent.some((r) => isLive(r, now))) return 'running';
  if (paused) return 'paused';
  const lastFinished = recent.find((r) => r.finishedAt !== null);
  return lastFinished && lastFinished.ok === false ? 'failing' : 'healthy';
}

export function nextRun(config: ConnectorConfig, paused: boolean, now: Date): string | null {
  if (paused) return null;
  return iso(nextRunOf(config, now));
}

/** Where files come from, as an address: no password, key or SAS (a URL loses its query and user info). */
export function sourceDescription(config: ConnectorConfig): string {
  const s = config.source;
  if (s.kind === 'folder') return s.path;
  if (s.kind === 'sftp') return `sftp://${s.username}@${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}${s.path.startsWith('/') ? '' : '/'}${s.path}`;
  try {
    const url = new URL(s.url);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return 'azure (address unreadable)';
  }
}

/** Where copies go, as targetSpec describes it (never its password); a Maildir as stored, under $XIP_HOME like a folder source. */
export function targetDescription(home: Home, config: ConnectorConfig): string {
  if (config.target.to.startsWith('maildir:')) return config.target.to;
  try {
    return targetSpec(home, config).description;
  } catch (e) {
    return `${config.target.to.split(/[?#]/)[0]!.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@')} (${e instanceof XipError ? e.code : 'unreadable'})`;
  }
}

function lastRunOf(run: ConnectorRun | undefined) {
  if (!run) return null;
  return { id: run.id, startedAt: run.startedAt.toISOString(), finishedAt: iso(run.finishedAt), ok: run.ok, code: run.code, imported: runSummary(run)?.imported ?? null };
}

/** Items and copies failed plus containers rejected, in the last finished run; null when it has no log. */
function failuresOf(run: ConnectorRun | undefined): number | null {
  const log = run && runLog(run);
  if (!log) return null;
  return (runSummary(run)?.failed ?? log.failed) + log.containers.filter((c) => !c.ok).length;
}

export async function connectorListItem(ctx: ViewContext, row: ConnectorRow) {
  const recent = await ctx.connectors.listRuns(row.name, RECENT_RUNS);
  let config: ConnectorConfig | undefined;
  let configError: { code: string; message: string } | null = null;
  try {
    config = openConfig(row.config, ctx.box);
  } catch (e) {
    if (!(e instanceof XipError)) throw e;
    // The sentence only: the detail of SECRET_KEY_INVALID names paths of the server.
    configError = { code: e.code, message: ERROR_MESSAGES[e.code] };
  }
  return {
    name: row.name,
    paused: row.paused,
    status: connectorStatus(row.paused, recent, ctx.now),
    source: config ? sourceDescription(config) : null,
    target: config ? targetDescription(ctx.home, config) : null,
    schedule: config?.schedule ?? null,
    timezone: config ? zoneOf(config) : null,
    nextRun: config ? nextRun(config, row.paused, ctx.now) : null,
    lastRun: lastRunOf(recent[0]),
    itemsImportedTotal: ctx.tally.totals(row.name).itemsImported,
    failuresLastRun: failuresOf(recent.find((r) => r.finishedAt !== null)),
    configError,
  };
}

export async function connectorDetail(ctx: ViewContext, row: ConnectorRow) {
  const config = openConfig(row.config, ctx.box);
  const recent = await ctx.connectors.listRuns(row.name, RECENT_RUNS);
  return {
    name: row.name,
    paused: row.paused,
    status: connectorStatus(row.paused, recent, ctx.now),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    source: sourceDescription(config),
    target: targetDescription(ctx.home, config),
    nextRun: nextRun(config, row.paused, ctx.now),
    lastRun: lastRunOf(recent[0]),
    config: redacted(config as ConnectorConfigInput) as ConnectorConfig,
  };
}
