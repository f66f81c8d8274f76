// What the server is handed by the wiring (cli/serve.ts): the installation's
// stores, its secret box, the password functions, and how to start a run.
// The server opens nothing itself (style.md: wiring at start-up only).
import type { Logger } from 'pino';
import type { Home } from '../home/home.js';
import type { SecretBox } from '../home/secrets.js';
import type { AccountStore } from '../ports/account-store.js';
import type { ConnectorStore } from '../ports/connector-store.js';
import type { EvidenceStore } from '../ports/evidence-store.js';
import type { Ledger } from '../ports/ledger.js';
import type { WorkerRegistry } from '../ports/worker-registry.js';
import type { OidcProvider } from './oidc/provider.js';

/**
 * Password hashing and policy, injected so that tests can use cheaper
 * parameters. The wiring gives home/passwords.ts: `{ hash: hashPassword,
 * verify: verifyOrDummy, check: checkPassword }`.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Whether the password matches; for a null hash (no such account, or none set) the same work and false, so that timing tells nothing. */
  verify(passwordHash: string | null, password: string): Promise<boolean>;
  /** Throws a XipError saying which rule the password breaks (home/passwords.ts: checkPassword). */
  check(password: string): void;
}

/**
 * Starts a run of the connector in the background, the way the scheduler
 * does (Scheduler.runNow), and resolves as soon as it has started; it throws
 * a XipError (CONNECTOR_BUSY, CONNECTOR_PAUSED, CONNECTOR_NOT_FOUND) when it
 * cannot. `actor` is the account that asked, for the run's own log.
 */
export type RunNow = (name: string, actor: string) => Promise<{ runId?: number }>;

export interface ServerDeps {
  readonly connectors: ConnectorStore;
  readonly ledger: Ledger;
  readonly accounts: AccountStore;
  readonly box: SecretBox;
  readonly home: Home;
  /** The files connectors fetched, as received (evidence/store.ts over home.evidence): auditors read and download them. */
  readonly evidence: EvidenceStore;
  readonly passwords: PasswordHasher;
  readonly runNow: RunNow;
  /** The installation's workers (every xip serve on its database), for GET /api/workers. */
  readonly workers: WorkerRegistry;
  /** The interval the workers beat at (home/heartbeat.ts: XIP_HEARTBEAT_SECONDS, read by the wiring); 10 s when not given. */
  readonly heartbeatMs?: number;
  /** Single sign-on (oidc/provider.ts: discoverOidc, at start-up); none: password sign-in only. */
  readonly oidc?: OidcProvider;
  /** The built console (dist/console: index.html and assets/), served beside the API; none: the API only. */
  readonly consoleDir?: string;
  /** The clock of sessions, rate limits and the audit trail; tests set it. */
  readonly now?: () => Date;
  /** Fastify's logger (pino); none: the server logs nothing. */
  readonly logger?: Logger;
}

/** The deps as the plugins take them: the clock and the heartbeat interval always there. */
export type Deps = Omit<ServerDeps, 'now' | 'logger' | 'heartbeatMs'> & { readonly now: () => Date; readonly heartbeatMs: number };
