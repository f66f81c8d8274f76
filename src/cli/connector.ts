// xip connector add|edit|pause|resume|remove|run|prune NAME … and the views
// (list, show, runs, log: connector-view.ts). State lives under XIP_HOME
// (home/home.ts). Every command has --json and the usual exit codes: 0 done,
// 1 a run that rejected a container or failed a copy, 2 usage, configuration,
// source or I/O.
import type { Command } from 'commander';
import { checkConnectorName, redacted } from '../connector/config.js';
import { formatRunLog } from '../connector/run-log.js';
import { XipError } from '../errors.js';
import { loadConnector, sealConfig } from '../home/connectors.js';
import { openInstallation } from '../home/state.js';
import { barReporter, jsonLogger, logReporter, type RunReporter } from '../home/run-reporter.js';
import { runNamedConnector } from '../home/run-connector.js';
import { configFromFlags, editedConfig, type ConnectorFlags } from './connector-config.js';
import { registerConnectorViews } from './connector-view.js';
import { EXIT_OK, EXIT_REJECTED, runAction } from './exit.js';
import { CRASH_ENV, crashPoint } from './import.js';
import type { Output, SetExit } from './io.js';
import { collect } from './options.js';
import { parseTime } from './trust-options.js';

type Installation = Awaited<ReturnType<typeof openInstallation>>;

export async function withInstallation<T>(env: NodeJS.ProcessEnv, body: (s: Installation) => Promise<T>): Promise<T> {
  const state = await openInstallation(env);
  try {
    return await body(state);
  } finally {
    await state.close();
  }
}

function configOptions(cmd: Command, adding: boolean): Command {
  return cmd
    .option('--source <where>', 'a folder, sftp://USER@HOST[:PORT]/PATH (password in XIP_SFTP_PASSWORD, or --sftp-key) or https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX] (XIP_AZURE_KEY or XIP_AZURE_SAS)')
    .option('--trust <pem>', 'a certificate trusted to sign containers (repeat for more)', collect)
    .option('--crl <crl>', 'a CRL file (repeat for more)', collect)
    .option('--directory <csv>', 'the organisation directory: a CSV (email,name,aliases,litigationHold) or graph://TENANT (Microsoft 365 users, read at each run)')
    .option('--mapping <csv>', 'custom mapping of source user ids: sourceId,mailbox')
    .option('--to <target>', 'maildir:ROOT, imap://USER@HOST:PORT, imaps://USER@HOST:PORT (password in XIP_IMAP_PASSWORD) or graph://TENANT (app in XIP_GRAPH_*)')
    .option('--auth <mode>', 'how an IMAP target logs in: auto, sasl-plain, master-user or oauth2-app (app-only OAuth 2.0, XIP_GRAPH_*)')
    .option('--folder <name>', `the folder each copy goes into${adding ? ' (default Inbox/XIP)' : ''}`)
    .option('--schedule <cron>', `when it runs, a cron expression${adding ? ' (default "0 2 * * *": every day at 02:00)' : ''}`)
    .option('--timezone <zone>', `the time zone the schedule is read in, IANA (e.g. Europe/Paris)${adding ? '; default: the server\'s' : '; "" for the server\'s'}`)
    .option('--catch-all <address>', 'the mailbox that receives items mapping to nobody')
    .option('--hold-only', 'import only into mailboxes on litigation hold')
    .option('--sftp-key <file>', 'SFTP private key (passphrase in XIP_SFTP_KEY_PASSPHRASE)')
    .option('--host-key <fingerprint>', 'the SFTP server key, SHA256:… as `ssh-keygen -lf` prints it')
    .option('--settle-seconds <n>', 'seconds between the two listings that tell a finished file from one being written (default 5)')
    .option('--json', 'print the result as one JSON object');
}

async function runOne(io: Output, env: NodeJS.ProcessEnv, name: string, json: boolean | undefined): Promise<number> {
  return withInstallation(env, async (state) => {
    const reporter: RunReporter = process.stderr.isTTY && !json ? barReporter() : logReporter(jsonLogger(2), name);
    try {
      const log = await runNamedConnector(state, { name, trigger: 'manual', onEvent: reporter.onEvent, crash: crashPoint(env[CRASH_ENV]) });
      reporter.end({ log });
      if (json) io.out(JSON.stringify(log));
      else io.out(...formatRunLog(log).split('\n'), `(xip connector log ${name} --run ${log.runId} for the whole log, --csv to download it)`);
      return log.failed === 0 && log.containers.every((c) => c.ok) ? EXIT_OK : EXIT_REJECTED;
    } catch (e) {
      if (e instanceof XipError) reporter.end({ code: e.code, message: e.explanation });
      throw e;
    }
  });
}

type Act = (json: boolean | undefined, body: () => Promise<number>) => Promise<void>;

export function registerConnector(program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv): void {
  const connector = program.command('connector').description('connectors set up once that run every day from a source into mailboxes');
  const act: Act = (json, body) => runAction(io, json, body).then(setExit);
  registerSetup(connector, io, act, env);
  registerStateVerbs(connector, io, act, env);
  registerRunAndPrune(connector, io, act, env);
  registerConnectorViews(connector, io, act, env);
}

/** add and edit: the configuration. */
function registerSetup(connector: Command, io: Output, act: Act, env: NodeJS.ProcessEnv): void {
  configOptions(connector.command('add').argument('<name>', 'a unique name').description('set up a connector (checked now, secrets stored encrypted)'), true).action((name: string, flags: ConnectorFlags) =>
    act(flags.json, () =>
      withInstallation(env, async (state) => {
        const config = await configFromFlags(state.home, checkConnectorName(name), flags, env);
        await state.store.addConnector(name, sealConfig(config, state.box));
        if (flags.json) io.out(JSON.stringify({ ok: true, connector: redacted(config) }));
        else io.out(`connector ${name} added: it runs on "${config.schedule}" under xip serve; run it now with xip connector run ${name}`);
        return EXIT_OK;
      }),
    ),
  );

  configOptions(connector.command('edit').argument('<name>').description('change what the flags name; the rest stays'), false)
    .option('--no-mapping', 'drop the custom mapping')
    .option('--no-catch-all', 'drop the catch-all mailbox')
    .option('--no-hold-only', 'import into every mapped mailbox again')
    .action((name: string, flags: ConnectorFlags) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const { config } = await loadConnector(state.store, state.box, name);
          const next = await editedConfig(state.home, config, flags, env);
          await state.store.updateConnector(name, sealConfig(next, state.box));
          if (flags.json) io.out(JSON.stringify({ ok: true, connector: redacted(next) }));
          else io.out(`connector ${name} changed`);
          return EXIT_OK;
        }),
      ),
    );
}

/** pause, resume and remove. */
function registerStateVerbs(connector: Command, io: Output, act: Act, env: NodeJS.ProcessEnv): void {
  for (const [verb, paused, text] of [
    ['pause', true, 'stop its scheduled runs until resumed'],
    ['resume', false, 'let it run on its schedule again'],
  ] as const) {
    connector
      .command(verb)
      .argument('<name>')
      .option('--json', 'print the result as one JSON object')
      .description(text)
      .action((name: string, flags: { json?: boolean }) =>
        act(flags.json, () =>
          withInstallation(env, async (state) => {
            await state.store.setPaused(name, paused);
            io.out(flags.json ? JSON.stringify({ ok: true, name, paused }) : `connector ${name} ${paused ? 'paused' : 'resumed'}`);
            return EXIT_OK;
          }),
        ),
      );
  }

  connector
    .command('remove')
    .argument('<name>')
    .option('--json', 'print the result as one JSON object')
    .description('delete its configuration; its runs, logs and evidence stay until pruned')
    .action((name: string, flags: { json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          await state.store.removeConnector(name);
          io.out(flags.json ? JSON.stringify({ ok: true, name, removed: true }) : `connector ${name} removed (its runs and evidence are kept)`);
          return EXIT_OK;
        }),
      ),
    );
}

/** run now, and prune old logs. */
function registerRunAndPrune(connector: Command, io: Output, act: Act, env: NodeJS.ProcessEnv): void {
  connector
    .command('run')
    .argument('<name>')
    .option('--json', "print the run's log as one JSON object")
    .description('run it now (one run at a time per connector, across processes)')
    .action((name: string, flags: { json?: boolean }) => act(flags.json, () => runOne(io, env, name, flags.json)));

  connector
    .command('prune')
    .argument('<name>')
    .requiredOption('--before <date>', 'drop the logs of runs started before this date (RFC 3339 or YYYY-MM-DD)')
    .option('--json', 'print the result as one JSON object')
    .description("drop old runs' logs and failure lines (the record of what was delivered stays)")
    .action((name: string, flags: { before: string; json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const before = parseTime(flags.before, '--before');
          const pruned = await state.store.pruneRuns(name, before);
          io.out(flags.json ? JSON.stringify({ ok: true, name, pruned }) : `${pruned} ${pruned === 1 ? 'run' : 'runs'} of ${name} pruned`);
          return EXIT_OK;
        }),
      ),
    );
}
