// xip serve: the HTTP API, the console (dist/console, built by npm run
// build) and the scheduler of the connectors in one process, until stopped
// (SIGTERM or SIGINT: scheduling stops, the server stops taking requests,
// runs in progress end, then the process exits). Logs are JSON lines (pino)
// on stderr and in XIP_HOME/logs/serve.log. The process is a worker of the
// installation: it beats in the database (home/heartbeat.ts) for `xip
// status`, and removes its row when it stops cleanly.
//
// Default 127.0.0.1:8080 over plain HTTP, for a console used on the machine
// itself; `--host 0.0.0.0` is for a real deployment, behind TLS: given here
// (--tls-cert/--tls-key) or by a proxy in front (then --secure-cookies).
// An installation without any account prints a one-time setup token at
// start: POST /api/setup with it creates the first connector-admin (or use
// `xip user add`).
//
// --no-console: a worker without the web console (issue 12, several workers
// on one PostgreSQL database): the scheduler, the heartbeat, /healthz and
// /metrics only; no console pages, no /api, /auth, /docs or /openapi.json
// (server/app.ts), no setup token (a new one would replace the token a
// console worker printed), and no single sign-on flags (nothing to sign in to).
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { XipError } from '../errors.js';
import { evidenceStoreFor } from '../home/evidence.js';
import { checkPassword, hashPassword, verifyOrDummy } from '../home/passwords.js';
import { doingOf, FORGET_AFTER_MS, heartbeatMs, newWorkerId, startHeartbeat } from '../home/heartbeat.js';
import { openInstallation } from '../home/state.js';
import { Scheduler } from '../home/scheduler.js';
import { sharedRunsFor, startPartWorker } from '../home/shared-runs.js';
import { jsonLogger } from '../home/run-reporter.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { wholeFlag } from './options.js';
import { addOidcFlags, oidcFromFlags, type OidcFlags } from './serve-oidc.js';

interface ServeFlags extends OidcFlags {
  reloadSeconds: string;
  port: string;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  secureCookies?: boolean;
  /** false with --no-console. */
  console: boolean;
}

async function tlsOf(flags: ServeFlags): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (!flags.tlsCert && !flags.tlsKey) return undefined;
  if (!flags.tlsCert || !flags.tlsKey) throw new XipError('USAGE', '--tls-cert and --tls-key go together');
  try {
    return { cert: await readFile(flags.tlsCert), key: await readFile(flags.tlsKey) };
  } catch (e) {
    throw new XipError('USAGE', `the TLS certificate or key cannot be read: ${(e as Error).message}`);
  }
}

export function registerServe(program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv): void {
  addOidcFlags(program
    .command('serve')
    .description('serve the HTTP API and run every connector on its schedule (once every 24 hours by default) until stopped')
    .option('--port <n>', 'the port to listen on', '8080')
    .option('--host <address>', 'the address to listen on (0.0.0.0 for every interface: only behind TLS)', '127.0.0.1')
    .option('--tls-cert <pem>', 'serve HTTPS with this certificate (chain) …')
    .option('--tls-key <pem>', '… and this private key')
    .option('--secure-cookies', 'mark cookies Secure when TLS ends at a proxy in front (implied by --tls-cert)')
    .option('--no-console', 'a worker without the web console: the scheduler, /healthz and /metrics only (no pages, no /api)')
    .option('--reload-seconds <n>', 'how often the connectors are read again (add, edit, pause take effect)', '30'))
    .action((flags: ServeFlags) =>
      runAction(io, false, async () => {
        const port = Number(flags.port);
        if (!/^\d{1,5}$/.test(flags.port) || port > 65535) throw new XipError('USAGE', `--port must be a port number, got "${flags.port.slice(0, 20)}"`);
        const https = await tlsOf(flags);
        const oidcGiven = Object.keys(flags).filter((k) => k.startsWith('oidc') && flags[k as keyof OidcFlags] !== undefined);
        if (!flags.console && oidcGiven.length > 0) throw new XipError('USAGE', '--no-console serves no sign-in: the --oidc-* flags do not go with it');
        // Single sign-on's flags checked and its provider read before anything starts (serve-oidc.ts).
        const oidc = await oidcFromFlags(flags, env);
        const beatMs = heartbeatMs(env);
        const state = await openInstallation(env, 'worker');
        await mkdir(state.home.logs, { recursive: true, mode: 0o700 });
        const file = createWriteStream(join(state.home.logs, 'serve.log'), { flags: 'a', mode: 0o600 });
        const logger = jsonLogger(2, file);
        const reloadMs = wholeFlag('--reload-seconds', flags.reloadSeconds) * 1000;
        const worker = newWorkerId(); // the heartbeat's id, also the one the scheduler claims slots under
        // Every worker takes parts of every run, whichever worker started it (home/shared-runs.ts).
        const shared = sharedRunsFor(state, worker, env);
        const scheduler = new Scheduler(state, { logger, reloadMs, worker, shared });
        const { buildServer, ensureSetupToken } = await import('../server/index.js');
        const { packageRoot } = await import('../server/plugins/console.js');
        const app = await buildServer(
          {
            connectors: state.store,
            ledger: state.ledger,
            accounts: state.accounts,
            box: state.box,
            home: state.home,
            evidence: evidenceStoreFor(state.home),
            consoleDir: join(packageRoot(import.meta.url), 'dist', 'console'),
            passwords: { hash: hashPassword, verify: verifyOrDummy, check: checkPassword },
            workers: state.workers,
            heartbeatMs: beatMs,
            ...(oidc ? { oidc } : {}),
            runNow: async (name) => {
              if (!(await state.store.getConnector(name))) throw new XipError('CONNECTOR_NOT_FOUND', name);
              if (!scheduler.runNow(name)) throw new XipError('CONNECTOR_BUSY', `${name} is running in this process`);
              return {};
            },
            logger,
          },
          { secureCookies: Boolean(https) || flags.secureCookies === true, console: flags.console },
          https ? { https } : {},
        );
        const token = flags.console ? await ensureSetupToken(state.accounts, new Date()) : undefined;
        let address: string;
        try {
          address = await app.listen({ port, host: flags.host });
        } catch (e) {
          // Nothing runs yet: close what is open, so that the process ends with the error (a port in use).
          await state.close().catch(() => undefined);
          throw e;
        }
        // Listening: the work starts (scheduler, parts of shared runs), then the heartbeat says so.
        await scheduler.start();
        const parts = startPartWorker(shared, logger);
        // Dead workers (no heartbeat for a day) are forgotten here, at a worker's start, rather than by `xip status`, which only reads.
        const forgotten = await state.workers.forgetSilent(new Date(Date.now() - FORGET_AFTER_MS));
        if (forgotten > 0) logger.info({ event: 'workers', forgotten }, 'workers not seen for 24 hours forgotten');
        const version = (JSON.parse(await readFile(join(packageRoot(import.meta.url), 'package.json'), 'utf8')) as { version: string }).version;
        const heartbeat = await startHeartbeat(state.workers, { id: worker, intervalMs: beatMs, version, doing: () => parts.doing() ?? doingOf(scheduler.running()), logger });
        if (token) {
          logger.info({ event: 'setup' }, 'no account yet: a one-time setup token was printed on stderr');
          process.stderr.write(
            `No account yet. Create the first connector-admin with this one-time token (or: xip user add NAME --role connector-admin):\n` +
              `  curl -X POST ${address}/api/setup -H 'content-type: application/json' -d '{"token":"${token}","name":"admin","password":"…"}'\n`,
          );
        }
        logger.info({ event: 'serve', home: state.home.root, address, worker: heartbeat.id, console: flags.console }, 'xip serve started');
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info({ event: 'serve', signal }, 'stopping: runs in progress end first');
            resolve();
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        await app.close();
        await scheduler.stop();
        await parts.stop();
        await heartbeat.stop();
        await state.close();
        logger.info({ event: 'serve' }, 'xip serve stopped');
        file.end();
        return EXIT_OK;
      }).then(setExit),
    );
}
