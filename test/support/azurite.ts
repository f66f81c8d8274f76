// Starts the real Azurite blob emulator (the project's devDependency,
// node_modules/.bin/azurite-blob) for tests of the Azure Blob source: on
// 127.0.0.1 and a free port, with its data in a temporary directory, and
// stops it by PID.
//
// Like the Dovecot and Cyrus harnesses, Azurite runs under the watchdog
// shell of server-process.ts, so it dies with the test process however that
// ends. The watchdog knows Azurite's PID but does not tell it; a small shell
// that writes its own PID and then execs Azurite (so the PID stays the same)
// gives it to us, for stop() and for kill() in the middle of a transfer.
import { freePort, serverStopper, spawnWatched } from './server-process.js';
import { request } from 'node:http';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const AZURITE_BLOB_BIN = fileURLToPath(new URL('../../node_modules/.bin/azurite-blob', import.meta.url));

/** Azurite's (and the Azure Storage Emulator's) well-known development account: public, not a secret. */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RealAzurite {
  /** The account's service URL, path-style: http://127.0.0.1:PORT/devstoreaccount1 */
  readonly blobUrl: string;
  readonly port: number;
  readonly accountName: string;
  readonly accountKey: string;
  /** The PID of Azurite's own (node) process. */
  readonly pid: number;
  /** SIGKILLs Azurite by PID at once (e.g. in the middle of a download); call stop() afterwards to clean up. */
  kill(): void;
  /** Kills Azurite by PID, waits until it is gone and removes its data directory. */
  stop(): Promise<void>;
}

export async function startRealAzurite(): Promise<RealAzurite> {
  const dir = await mkdtemp(join(tmpdir(), 'xip-azurite-'));
  await mkdir(join(dir, 'data'));
  const pidPath = join(dir, 'azurite.pid');
  const port = await freePort();
  const args = [
    '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', join(dir, 'data'),
    '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry',
  ];
  // sh writes its PID, then becomes Azurite's node process (exec keeps the PID).
  const { child, stderr } = spawnWatched('/bin/sh', ['-c', 'echo $$ >"$0"; exec "$@"', pidPath, process.execPath, AZURITE_BLOB_BIN, ...args], { cwd: dir });
  const pid = await readPid(pidPath, child);
  const stopWatched = serverStopper(child, pid, dir);
  try {
    await waitForHttp(port, () => child.exitCode !== null || child.signalCode !== null, 30_000);
  } catch (e) {
    killPid(pid);
    await stopWatched();
    throw new Error(`${(e as Error).message}; Azurite said: ${stderr().trim() || '(nothing)'}`);
  }
  return {
    blobUrl: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`,
    port,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    pid,
    kill: () => killPid(pid),
    stop: async () => {
      // Test data only: no need for Azurite's graceful shutdown.
      killPid(pid);
      await stopWatched();
    },
  };
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function readPid(path: string, child: { exitCode: number | null; signalCode: NodeJS.Signals | null }): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (/^\d+\n$/.test(text)) return Number(text.trim());
    if (child.exitCode !== null || child.signalCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Azurite's launcher did not write its PID to ${path}`);
}

/** Resolves once anything on the port answers HTTP (Azurite answers a bare GET with an error document: enough). */
async function waitForHttp(port: number, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('Azurite exited before it answered');
    const answered = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: `/${AZURITE_ACCOUNT_NAME}?comp=list`, method: 'GET', timeout: 2000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
    if (answered) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Azurite did not answer HTTP on 127.0.0.1:${port} within ${timeoutMs} ms`);
}
