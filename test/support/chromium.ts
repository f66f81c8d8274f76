// Debian's Chromium for the console's end-to-end tests, driven through
// playwright-core (never a browser downloaded by Playwright): installed by
// apt-get when /usr/bin/chromium is missing (as dovecot.ts installs Dovecot),
// started headless with no network of its own, and stopped by PID.
//
// Also the accessibility check: axe-core run inside a page, its serious and
// critical violations returned. The console's CSP (script-src 'self') forbids
// inline scripts, so axe is not added as a <script>: its source is evaluated
// through the DevTools protocol (Runtime.evaluate), which the page's CSP does
// not govern, and the page is checked with its CSP intact — no bypassCSP.
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';

const execFileP = promisify(execFile);

export const CHROMIUM_BIN = '/usr/bin/chromium';
const SETUP_LOCK = join(tmpdir(), 'xip-chromium-setup.lock');

let setupDone: Promise<void> | undefined;

/**
 * Installs Debian's chromium when missing; once per process, serialised
 * between processes with flock(1) so that parallel test files do not race
 * apt-get. Fails loudly when it cannot (not root, apt-get failed).
 */
export function ensureChromium(): Promise<void> {
  setupDone ??= setup();
  return setupDone;
}

async function setup(): Promise<void> {
  if (existsSync(CHROMIUM_BIN)) return;
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM_BIN} is missing and this process is not root: install Debian's chromium (apt-get install chromium)`);
  const script = [
    'set -e',
    `if [ ! -x ${CHROMIUM_BIN} ]; then`,
    '  export DEBIAN_FRONTEND=noninteractive',
    // The package lists may be missing (a slim image) or stale: update once before installing.
    '  apt-get update -o DPkg::Lock::Timeout=300',
    '  apt-get install -y -o DPkg::Lock::Timeout=300 chromium',
    'fi',
  ].join('\n');
  try {
    await execFileP('flock', [SETUP_LOCK, 'sh', '-c', script], { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`installing chromium failed: ${err.message}\n${err.stderr ?? ''}`, { cause: e });
  }
  if (!existsSync(CHROMIUM_BIN)) throw new Error(`apt-get reported success but ${CHROMIUM_BIN} is still missing`);
}

export interface RunningChromium {
  readonly browser: Browser;
  readonly pid: number;
  /** Closes the browser, then kills its process by PID if it is still there after 5 s. */
  stop(): Promise<void>;
}

export interface ChromiumOptions {
  /**
   * Switches added after the ones every test gets (which stay): e.g.
   * --ignore-certificate-errors-spki-list=HASH to trust one test server's key.
   */
  readonly args?: readonly string[];
}

/**
 * Starts Debian's Chromium headless. Launched as a server so that its PID is
 * known: stop() ends exactly that process, and so does the test process's
 * exit if stop() was never reached.
 */
export async function startChromium(options: ChromiumOptions = {}): Promise<RunningChromium> {
  await ensureChromium();
  const server = await chromium.launchServer({
    executablePath: CHROMIUM_BIN,
    // --no-sandbox: the tests run as root in a container, where Chromium's sandbox cannot start.
    // --host-resolver-rules: no name resolves, so nothing but the loopback addresses the tests give is reachable.
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', ...(options.args ?? [])],
    // Listens on loopback only; the tests drive it from this process.
    host: '127.0.0.1',
  });
  const proc: ChildProcess | null = server.process();
  const pid = proc?.pid;
  if (pid === undefined) {
    await server.close();
    throw new Error('chromium started without a process id');
  }
  const onExit = (): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  const browser = await chromium.connect(server.wsEndpoint());
  let stopped = false;
  return {
    browser,
    pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      const gone = new Promise<void>((resolve) => (proc!.exitCode !== null || proc!.signalCode !== null ? resolve() : proc!.once('exit', () => resolve())));
      await browser.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      const timer = setTimeout(onExit, 5_000);
      await gone;
      clearTimeout(timer);
      process.off('exit', onExit);
    },
  };
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: readonly string[];
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (WCAG 2.x A and AA rules and best practices) on the page as
 * it is and returns the serious and critical violations. Throws if axe could
 * not be loaded in the page, so that a check that did not run never passes.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // page.evaluate of a string goes to Runtime.evaluate: not subject to the page's script-src.
  await page.evaluate(AXE_SOURCE);
  const loaded = await page.evaluate(() => typeof (globalThis as unknown as { axe?: { run?: unknown } }).axe?.run === 'function');
  if (!loaded) throw new Error(`axe-core did not load in ${page.url()}`);
  const violations = await page.evaluate(async () => {
    interface AxeResult {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    }
    // In the page (this project's tsconfig has no DOM types, hence the shape given here).
    const page = globalThis as unknown as { document: unknown; axe: { run(context: unknown, options: unknown): Promise<AxeResult> } };
    const result = await page.axe.run(page.document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', help: v.help, nodes: v.nodes.map((n) => n.target.map(String).join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The violations as lines for an assertion message. */
export function describeViolations(violations: readonly AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 5).join(', ')}`).join('\n');
}
