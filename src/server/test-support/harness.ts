// A server for tests, on a real installation (a throwaway XIP_HOME with its
// SQLite database and secret key, home/state.ts), driven through
// app.inject() without sockets, accounts in its SQLite store. Passwords:
// home/passwords.ts as the wiring gives it, each verify counted to show that
// sign-in always does the same work. The clock is the test's; the logger's
// lines are kept to search them.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import type { ConnectorConfigInput } from '../../connector/config.js';
import { fileEvidenceStore } from '../../evidence/store.js';
import { checkPassword, hashPassword, verifyOrDummy } from '../../home/passwords.js';
import { runNamedConnector } from '../../home/run-connector.js';
import { openInstallation } from '../../home/state.js';
import type { AccountStore, Role } from '../../ports/account-store.js';
import { buildContainer, tempDir, testIdentity } from '../../xip/test-support/container.js';
import { buildServer } from '../app.js';
import type { PasswordHasher } from '../deps.js';
import type { OidcProvider } from '../oidc/provider.js';
import type { ServerOptionsInput } from '../options.js';
import { SESSION_COOKIE } from '../plugins/auth.js';

export const ANA = 'ana@corp.example';
export const BO = 'bo@corp.example';
/** A password of the policy's length that no test answer or log line may ever hold. */
export const PASSWORD = 'correct horse battery staple 7Q';

export interface CountingHasher extends PasswordHasher {
  /** The hash each verify was given (null: no account). */
  readonly verified: (string | null)[];
}

/** home/passwords.ts, as the wiring gives it, with each verify recorded. */
export function testHasher(): CountingHasher {
  const verified: (string | null)[] = [];
  return {
    verified,
    hash: hashPassword,
    verify(passwordHash, password) {
      verified.push(passwordHash);
      return verifyOrDummy(passwordHash, password);
    },
    check: checkPassword,
  };
}

export interface Harness {
  readonly app: FastifyInstance;
  readonly dir: string;
  readonly drop: string;
  readonly mail: string;
  readonly accounts: AccountStore;
  readonly state: Awaited<ReturnType<typeof openInstallation>>;
  readonly passwords: CountingHasher;
  readonly clock: { now: Date };
  readonly runNowCalls: { name: string; actor: string }[];
  /** Every line the server logged. */
  readonly logs: string[];
  /** An account of that role with PASSWORD, signed in. */
  account(name: string, role: Role): Promise<Client>;
  signIn(name: string, password?: string): Promise<Client>;
  /** A connector's configuration: a folder source, the test CA, a CSV directory of ANA and BO, a maildir target. */
  config(name: string, extra?: Partial<ConnectorConfigInput>): ConnectorConfigInput;
  /** Drops a container of chat messages with these ids into the source folder and runs the connector (not through the API); `signer` other than the trusted CA's gets the container rejected. */
  runWith(name: string, ids: readonly string[], signer?: string): Promise<void>;
  close(): Promise<void>;
}

export interface Client {
  readonly name: string;
  readonly cookie: string;
  readonly csrf: string;
  inject(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

export interface HarnessOptions {
  readonly options?: Partial<ServerOptionsInput>;
  /** A built console to serve (plugins/console.ts). */
  readonly consoleDir?: string;
  /** Single sign-on (oidc/provider.ts's discoverOidc); none: password sign-in only. */
  readonly oidc?: OidcProvider;
}

const chat = (id: string) => ({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: ANA, sourceId: `src-${ANA}` }, participants: [{ email: BO, role: 'to' }], body: { text: `text of ${id}` } });

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await tempDir('xip-server-');
  const drop = join(dir, 'drop');
  const mail = join(dir, 'mail');
  await mkdir(drop);
  const state = await openInstallation({ XIP_HOME: join(dir, 'var'), XIP_SECRET_KEY: 'ab'.repeat(32) });
  const accounts: AccountStore = state.accounts;
  const passwords = testHasher();
  const clock = { now: new Date('2026-12-01T09:00:00Z') };
  const runNowCalls: { name: string; actor: string }[] = [];
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'trace' }, sink);
  const app = await buildServer(
    {
      connectors: state.store,
      ledger: state.ledger,
      accounts,
      box: state.box,
      home: state.home,
      evidence: fileEvidenceStore(state.home.evidence),
      passwords,
      workers: state.workers,
      runNow: async (name, actor) => {
        runNowCalls.push({ name, actor });
        return { runId: 4242 };
      },
      now: () => clock.now,
      ...(opts.oidc ? { oidc: opts.oidc } : {}),
      logger,
      ...(opts.consoleDir !== undefined ? { consoleDir: opts.consoleDir } : {}),
    },
    { secureCookies: true, ...opts.options },
  );
  const trust = testIdentity().issued.caCertificatePem;
  let containers = 0;

  const client = (name: string, cookie: string, csrf: string): Client => ({
    name,
    cookie,
    csrf,
    inject: (method, url, body, headers = {}) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: { cookie: `${SESSION_COOKIE}=${cookie}`, 'x-csrf-token': csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      }),
  });

  const harness: Harness = {
    app,
    dir,
    drop,
    mail,
    accounts,
    state,
    passwords,
    clock,
    runNowCalls,
    logs,
    async account(name, role) {
      await accounts.createAccount({ name, role, passwordHash: await passwords.hash(PASSWORD), at: clock.now });
      return harness.signIn(name);
    },
    async signIn(name, password = PASSWORD) {
      const r = await app.inject({ method: 'POST', url: '/api/session', payload: { name, password } });
      if (r.statusCode !== 200) throw new Error(`sign-in of ${name}: ${r.statusCode} ${r.body}`);
      const cookie = r.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
      return client(name, cookie, (r.json() as { csrfToken: string }).csrfToken);
    },
    config(name, extra = {}) {
      return {
        version: 1,
        name,
        source: { kind: 'folder', path: drop },
        trust: [{ file: 'ca.pem', text: trust }],
        directory: { file: 'users.csv', text: `email,name,aliases,litigationHold\n${ANA},Ana,,true\n${BO},Bo,,false\n` },
        target: { to: `maildir:${mail}` },
        settleSeconds: 0,
        ...extra,
      };
    },
    async runWith(name, ids, signer) {
      const file = join(dir, `c${++containers}.xip`);
      await buildContainer(file, { data: { 'items/1.ndjson': ids.map((i) => JSON.stringify(chat(i))).join('\n') + '\n' }, ...(signer ? { identity: testIdentity(signer) } : {}) });
      await copyFile(file, join(drop, `day-${containers}.xip`));
      await runNamedConnector(state, { name, trigger: 'manual', settleMs: 0 });
    },
    async close() {
      await app.close();
      await state.close().catch(() => undefined); // a test may have closed the database already
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
