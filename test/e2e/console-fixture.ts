// What the console's end-to-end tests share: the shipped `xip serve` (bin/xip.js
// over the built dist/, with dist/console) started as a child process on a
// throwaway XIP_HOME and stopped by PID; a drop folder of signed containers
// made with the test-support builder, whose run yields imported items and
// failures with their reasons; accounts made with the CLI; and the
// browser-side steps every test repeats (sign in through the form).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { buildContainer, tempDir, testIdentity } from '../../src/xip/test-support/container.js';
import { ROOT, runXip, XIP_BIN } from '../support/cli.js';

export const PASSWORD = 'a long enough passphrase for tests';
export const ANA = 'ana@corp.example';
export const BO = 'bo@corp.example';
/** Laptop size: the screenshots and most checks. */
export const LAPTOP = { width: 1280, height: 800 } as const;
/** The timeout of every wait on the page: polling is 2 s while a run goes, 15 s otherwise. */
export const WAIT_MS = 25_000;

const chat = (id: string, from: string, to: string) => ({ id, type: 'chat.message', sentAt: '2026-11-22T14:00:00Z', from: { email: from, sourceId: `src-${from}` }, participants: [{ email: to, role: 'to' }], body: { text: `text of ${id}` } });
const ndjson = (items: readonly unknown[]) => items.map((i) => JSON.stringify(i)).join('\n') + '\n';

/** The fixed times of the drop's files (so "Files found" looks the same every time, and no file is still settling). */
const TRUSTED_MTIME = new Date('2026-11-22T23:00:00Z');
const UNTRUSTED_MTIME = new Date('2026-11-21T23:00:00Z');

export interface Drop {
  readonly dir: string;
  readonly home: string;
  /** The folder source. */
  readonly drop: string;
  /** The Maildir target's root: maildir:<mail>. */
  readonly mail: string;
  readonly caPem: string;
  readonly usersCsv: string;
  readonly mappingCsv: string;
  /** Signed by the trusted CA: 4 copies imported (a and b, each in Ana's and Bo's mailbox), 2 items failed. */
  readonly trusted: { readonly file: string; readonly sha256: string };
  /** Signed by a CA nobody trusts: rejected, CERT_UNTRUSTED. */
  readonly untrusted: { readonly file: string; readonly sha256: string };
  /** The failures the trusted file's run records: item id → code. */
  readonly failures: Readonly<Record<string, string>>;
  readonly importedCopies: number;
  readonly signerSubject: string;
}

/** A throwaway installation, its drop folder, the CA's PEM, the directory CSV and a custom mapping CSV. */
export async function makeDrop(prefix: string): Promise<Drop> {
  const dir = await tempDir(prefix);
  // The drop and the mailboxes inside XIP_HOME: the server stores and shows them as $XIP_HOME/…, the same on every run (the screenshots).
  const home = join(dir, 'var');
  await mkdir(home, { mode: 0o700 });
  const drop = join(home, 'drop');
  const mail = join(home, 'mail');
  await mkdir(drop);
  const caPem = join(dir, 'trusted-ca.pem');
  await writeFile(caPem, testIdentity().issued.caCertificatePem);
  const usersCsv = join(dir, 'users.csv');
  await writeFile(usersCsv, `email,name,aliases,litigationHold\n${ANA},Ana,,true\n${BO},Bo,,false\n`);
  const mappingCsv = join(dir, 'mapping.csv');
  await writeFile(mappingCsv, `sourceId,mailbox\nslack:U0ZED,${BO}\n`);

  // gus and hal are in no directory (ITEM_UNMAPPED); bad-1 has no sentAt (ITEM_INVALID).
  const noTime = { id: 'bad-1', type: 'chat.message', from: { email: ANA, sourceId: `src-${ANA}` }, participants: [{ email: BO, role: 'to' }], body: { text: 'no time' } };
  const trustedFile = await buildContainer(join(drop, 'day-2.xip'), {
    data: { 'items/chat.ndjson': ndjson([chat('a', ANA, BO), chat('b', BO, ANA), chat('c', 'gus@corp.example', 'hal@corp.example'), noTime]) },
  });
  const untrustedFile = await buildContainer(join(drop, 'day-1.xip'), { identity: testIdentity('stranger'), data: { 'items/chat.ndjson': ndjson([chat('z', ANA, BO)]) } });
  await utimes(trustedFile, TRUSTED_MTIME, TRUSTED_MTIME);
  await utimes(untrustedFile, UNTRUSTED_MTIME, UNTRUSTED_MTIME);
  const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');
  return {
    dir,
    home,
    drop,
    mail,
    caPem,
    usersCsv,
    mappingCsv,
    trusted: { file: 'day-2.xip', sha256: await sha(trustedFile) },
    untrusted: { file: 'day-1.xip', sha256: await sha(untrustedFile) },
    failures: { c: 'ITEM_UNMAPPED', 'bad-1': 'ITEM_INVALID' },
    importedCopies: 4,
    signerSubject: 'Test signer default',
  };
}

export interface Serving {
  readonly address: string;
  /** The one-time setup token a new installation prints. */
  readonly token: string | undefined;
  readonly pid: number;
  logs(): string;
  stop(): Promise<void>;
}

/** Environment of the server and CLI: no secrets of the developer's shell leak in; the server's time zone UTC, whatever the host's (next runs, screenshots). */
export function xipEnv(home: string): NodeJS.ProcessEnv {
  return { ...process.env, TZ: 'UTC', XIP_HOME: home, XIP_SECRET_KEY: '', XIP_IMAP_PASSWORD: '', XIP_USER_PASSWORD: '' };
}

export interface ServeOptions {
  /** The port to listen on; 0 (the default): any free one. */
  readonly port?: number;
  /** Flags added after --port and --host (e.g. the --oidc-* ones). */
  readonly args?: readonly string[];
  /** Variables added to xipEnv(home) (e.g. XIP_OIDC_CLIENT_SECRET, NODE_EXTRA_CA_CERTS). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The shipped `xip serve --port 0` on 127.0.0.1 (its default host), started
 * as an admin would; resolves once it listens (and has printed the setup
 * token on a new installation). Killed by PID if the test process exits first.
 */
export async function serve(home: string, options: ServeOptions = {}): Promise<Serving> {
  if (!existsSync(join(ROOT, 'dist', 'console', 'index.html'))) throw new Error('dist/console/index.html is missing: run npm run build first');
  const args = [XIP_BIN, 'serve', '--port', String(options.port ?? 0), '--host', '127.0.0.1', ...(options.args ?? [])];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env: { ...xipEnv(home), ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const pid = child.pid!;
  const onExit = (): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(onExit, 10_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', onExit);
  };
  const deadline = Date.now() + 20_000;
  while (!/"address":"[^"]+"/.test(logs) || (/No account yet/.test(logs) && !/"token":"[^"]+"/.test(logs))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`xip serve did not start: ${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const address = /"address":"([^"]+)"/.exec(logs)![1]!;
  if (!address.startsWith('http://127.0.0.1:')) {
    await stop();
    throw new Error(`xip serve listens on ${address}, not on loopback`);
  }
  return { address, token: /"token":"([^"]+)"/.exec(logs)?.[1], pid, logs: () => logs, stop };
}

/** `xip user add NAME --role ROLE` with XIP_USER_PASSWORD, as an admin adds an account. */
export async function addUser(home: string, name: string, role: 'connector-admin' | 'viewer' | 'auditor'): Promise<void> {
  const r = await runXip(['user', 'add', name, '--role', role], { env: { ...xipEnv(home), XIP_USER_PASSWORD: PASSWORD } });
  if (r.code !== 0) throw new Error(`xip user add ${name}: ${r.stderr}`);
}

/**
 * A browser context as the tests use it: the laptop viewport, UTC, English,
 * reduced motion; requests anywhere but the server under test (and the
 * origins in `alsoAllowed`, e.g. a test's identity provider on 127.0.0.1)
 * are refused (the tests never reach beyond 127.0.0.1). Playwright routes a
 * navigation's first request only, not the hops of its redirects: that a
 * redirect leads nowhere else rests on Chromium's --host-resolver-rules
 * (chromium.ts).
 */
export async function newContext(browser: Browser, address: string, viewport: { width: number; height: number } = LAPTOP, alsoAllowed: readonly string[] = []): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: address, viewport, locale: 'en-US', timezoneId: 'UTC', reducedMotion: 'reduce', acceptDownloads: true });
  context.setDefaultTimeout(WAIT_MS);
  const allowed = new Set([address, ...alsoAllowed]);
  await context.route((url) => !allowed.has(url.origin), (route) => route.abort('blockedbyclient'));
  return context;
}

/** Signs in through the /login form; resolves on the connectors page. */
export async function signIn(page: Page, name: string, password = PASSWORD): Promise<void> {
  await page.goto('/login');
  await shown(heading(page, 'Sign in'));
  await field(page, 'Name').fill(name);
  await field(page, 'Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/connectors$/);
  await shown(heading(page, 'Data connectors'));
}

/** The form field labelled `label` (not a form or group the same words name). */
export function field(page: Page, label: string): Locator {
  return page.locator('input, textarea, select').and(page.getByLabel(label, { exact: true }));
}

/** The page's one h1, named `name`. */
export function heading(page: Page, name: string, level = 1): Locator {
  return page.getByRole('heading', { level, name, exact: true });
}

/** Resolves once the locator is visible (WAIT_MS at most). */
export async function shown(locator: Locator): Promise<Locator> {
  await locator.waitFor({ state: 'visible' });
  return locator;
}

/** Resolves once the locator's text matches `pattern`; returns the text. */
export async function textMatches(locator: Locator, pattern: RegExp, timeoutMs = WAIT_MS): Promise<string> {
  let last = '';
  try {
    return await waitFor(`${String(pattern)}`, async () => {
      last = (await locator.innerText({ timeout: 1_000 }).catch(() => '')).trim();
      return pattern.test(last) ? last : undefined;
    }, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; the text was: ${JSON.stringify(last.slice(0, 400))}`, { cause: e });
  }
}

export type Row = Readonly<Record<string, string>>;

/** The body rows of the table captioned `caption`, each cell under its column header's text. */
export async function tableRows(page: Page, caption: string, timeoutMs = WAIT_MS): Promise<Row[]> {
  const table = page.getByRole('table', { name: caption, exact: true });
  await table.waitFor({ state: 'visible', timeout: timeoutMs });
  // In the page: a table's shape (this project's tsconfig has no DOM types).
  interface Cell {
    readonly innerText: string;
  }
  interface Rows {
    readonly rows: ArrayLike<{ readonly cells: ArrayLike<Cell> }>;
  }
  // No function declared inside: tsx would wrap it in a __name() the page does not have.
  return table.evaluate((t: unknown) => {
    const table = t as { tHead: Rows | null; tBodies: ArrayLike<Rows> };
    const headers = Array.from(table.tHead?.rows[0]?.cells ?? []).map((c) => c.innerText.replace(/\s+/g, ' ').trim());
    const body = Array.from(table.tBodies).flatMap((b) => Array.from(b.rows));
    return body.map((r) => Object.fromEntries(Array.from(r.cells).map((c, i) => [headers[i] ?? String(i), c.innerText.replace(/\s+/g, ' ').trim()])));
  });
}

/** Waits until the table captioned `caption` has rows for which `ok` holds; returns them. */
export async function rowsWhen(page: Page, caption: string, ok: (rows: Row[]) => boolean, timeoutMs = WAIT_MS): Promise<Row[]> {
  let last: Row[] = [];
  let problem = '';
  try {
    return await waitFor(`the table "${caption}"`, async () => {
      last = await tableRows(page, caption, 1_000).catch((e: Error) => {
        problem = ` (${e.message.split('\n')[0]})`;
        return [];
      });
      return ok(last) ? last : undefined;
    }, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; its rows were: ${JSON.stringify(last)}${problem}`, { cause: e });
  }
}

/**
 * The connector configuration the wizard makes, as POST /api/connectors takes
 * it: for the tests that need a connector but not the wizard.
 */
export async function connectorConfig(d: Drop, name: string): Promise<Record<string, unknown>> {
  return {
    version: 1,
    name,
    source: { kind: 'folder', path: d.drop },
    trust: [{ file: 'trusted-ca.pem', text: await readFile(d.caPem, 'utf8') }],
    directory: { file: 'users.csv', text: await readFile(d.usersCsv, 'utf8') },
    target: { to: `maildir:${d.mail}` },
    schedule: '0 2 * * *',
  };
}

/** An API client signed in as `name` (the CSRF token of its session on every change). */
export async function apiAs(address: string, name: string): Promise<(method: string, path: string, body?: unknown) => Promise<Response>> {
  const signIn = await fetch(`${address}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
  if (!signIn.ok) throw new Error(`sign-in of ${name}: ${signIn.status} ${await signIn.text()}`);
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  const { csrfToken } = (await signIn.json()) as { csrfToken: string };
  return (method, path, body) =>
    fetch(`${address}${path}`, {
      method,
      headers: { cookie, 'x-csrf-token': csrfToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
}

/** Waits until `check` holds (polls every 100 ms); throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Steps of one journey, each depending on the ones before: once one fails,
 * the rest are skipped (instead of each waiting out its timeouts).
 */
export function journey(page: () => Page | undefined): (body: () => Promise<void>) => (t: { skip(message: string): void }) => Promise<void> {
  let broken: string | undefined;
  return (body) => async (t) => {
    if (broken) return t.skip(`an earlier step failed: ${broken}`);
    try {
      await body();
    } catch (e) {
      broken = (e as Error).message.split('\n')[0];
      throw new Error(`${(e as Error).message}\n--- the page then: ${await pageState(page())}`, { cause: e });
    }
  };
}

/** Where a page is and what it says: for a failure's message. */
export async function pageState(page: Page | undefined): Promise<string> {
  if (!page || page.isClosed()) return '(no page)';
  const text = await page.locator('body').innerText({ timeout: 2_000 }).catch((e: Error) => `(unreadable: ${e.message})`);
  return `${page.url()}\n${text.slice(0, 3_000)}`;
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}
