// xip status: the workers of the installation (every `xip serve` on this
// XIP_HOME or on the PostgreSQL database of XIP_DATABASE_URL), what each is
// doing and its last heartbeat. A worker is alive while that heartbeat is
// within 3 intervals (home/heartbeat.ts; XIP_HEARTBEAT_SECONDS, 10 s by
// default); the others are shown as not seen for so long, and forgotten by
// the next `xip serve` to start once a day has passed. Only reads: exit 0.
import type { Command } from 'commander';
import { ALIVE_BEATS, heartbeatMs } from '../home/heartbeat.js';
import { workerStatus } from '../home/worker-status.js';
import { withInstallation } from './connector.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';

/** "42 s", "3 min", "5 h", "2 d": how long ago, for people. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

export function registerStatus(program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv): void {
  program
    .command('status')
    .option('--json', 'print one JSON object')
    .description('the workers (xip serve) of the installation: alive or not, what each is doing, the last heartbeat')
    .action((flags: { json?: boolean }) =>
      runAction(io, flags.json, () =>
        withInstallation(env, async (state) => {
          const aliveMs = ALIVE_BEATS * heartbeatMs(env);
          const now = new Date();
          const workers = (await state.workers.listWorkers()).map((w) => workerStatus(w, now, aliveMs));
          if (flags.json) {
            io.out(JSON.stringify({ workers }));
            return EXIT_OK;
          }
          if (workers.length === 0) io.out('no worker: no xip serve has run on this installation in the last 24 hours');
          for (const w of workers) {
            const age = ago(w.heartbeatAgeSeconds * 1000);
            io.out(`${w.id}  ${w.alive ? 'alive' : `not seen for ${age}`}  host ${w.host} pid ${w.pid}  started ${w.startedAt}  last heartbeat ${w.heartbeatAt} (${age} ago)  ${w.doing ?? '-'}`);
          }
          return EXIT_OK;
        }),
      ).then(setExit),
    );
}
