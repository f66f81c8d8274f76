// xip serve: runs every connector on its schedule until stopped (SIGTERM or
// SIGINT: scheduling stops, runs in progress end, then the process exits).
// Logs are JSON lines (pino) on stderr and in XIP_HOME/logs/serve.log.
// (The web console joins this process in a later issue.)
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openInstallation } from '../home/state.js';
import { Scheduler } from '../home/scheduler.js';
import { jsonLogger } from '../home/run-reporter.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';

export function registerServe(program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv): void {
  program
    .command('serve')
    .description('run every connector on its schedule (once every 24 hours by default) until stopped')
    .option('--reload-seconds <n>', 'how often the connectors are read again (add, edit, pause take effect)', '30')
    .action((flags: { reloadSeconds: string }) =>
      runAction(io, false, async () => {
        const state = await openInstallation(env);
        await mkdir(state.home.logs, { recursive: true, mode: 0o700 });
        const file = createWriteStream(join(state.home.logs, 'serve.log'), { flags: 'a', mode: 0o600 });
        const logger = jsonLogger(2, file);
        const reloadMs = Math.max(1, Number(flags.reloadSeconds) || 30) * 1000;
        const scheduler = new Scheduler(state, { logger, reloadMs });
        await scheduler.start();
        logger.info({ event: 'serve', home: state.home.root }, 'xip serve started');
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info({ event: 'serve', signal }, 'stopping: runs in progress end first');
            resolve();
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        await scheduler.stop();
        await state.close();
        logger.info({ event: 'serve' }, 'xip serve stopped');
        file.end();
        return EXIT_OK;
      }).then(setExit),
    );
}
