// xip import FILE … --trust PEM … --directory users.csv --to TARGET
//   [--mapping map.csv] [--folder NAME] [--catch-all ADDRESS] [--hold-only]
//   [--state FILE] [--json]
// Wiring happens here, once: the configuration is read and checked, the
// adapters (target, ledger) are built, and the core's runImport gets them.
import type { Command } from 'commander';
import { runImport, type CrashPoint } from '../connector/import-run.js';
import { fileSource } from '../sources/files.js';
import { formatRunLog } from '../connector/run-log.js';
import { createTarget, parseTarget } from '../delivery/index.js';
import { XipError } from '../errors.js';
import { databaseUrl, DATABASE_URL_ENV, openDatabase } from '../home/state.js';
import { loadDirectory, loadMapping, mappingOptions, type Directory } from '../mapping/index.js';
import { EXIT_OK, EXIT_REJECTED, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { addTrustOptions, readText, wholeFlag, withAuth } from './options.js';
import { loadTrust, type TrustFlags } from './trust-options.js';

interface ImportFlags extends TrustFlags {
  directory: string;
  to: string;
  mapping?: string;
  folder: string;
  catchAll?: string;
  holdOnly?: boolean;
  state: string;
  connector: string;
  staging?: string;
  batchSize?: string;
  concurrency?: string;
  auth?: string;
  json?: boolean;
}

/** The directory: a CSV file, or the users of a Microsoft 365 tenant. */
export async function readDirectory(where: string, holdOnly: boolean, env: NodeJS.ProcessEnv): Promise<Directory> {
  if (!/^graph:/i.test(where)) return loadDirectory(await readText(where, 'directory'), where);
  if (holdOnly) throw new XipError('USAGE', '--hold-only needs to know who is on litigation hold, which Microsoft Graph does not expose: give a CSV directory with its litigationHold column (docs/microsoft-365.md)');
  const { parseGraphTarget } = await import('../delivery/graph/settings.js');
  const { graphDirectory } = await import('../delivery/graph/create.js');
  return graphDirectory(parseGraphTarget(where, env, '--directory'));
}

/** Environment variable for crash tests only: `after-item:N`, `after-pending:N`, `after-deliver:N` or (connector runs) `after-fetch:N`. */
export const CRASH_ENV = 'XIP_TEST_CRASH';

export function crashPoint(value: string | undefined): CrashPoint | undefined {
  if (!value) return undefined;
  const m = /^(after-item|after-pending|after-deliver|after-fetch):(\d+)$/.exec(value);
  if (!m) throw new XipError('USAGE', `${CRASH_ENV}="${value}": expected after-item:N, after-pending:N, after-deliver:N or after-fetch:N`);
  return { at: m[1] as CrashPoint['at'], n: Number(m[2]) };
}

export function registerImport(program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv): void {
  addTrustOptions(
    program
      .command('import')
      .argument('<files...>', 'XIP files')
      .requiredOption('--directory <csv>', 'the organisation directory: a CSV (email,name,aliases,litigationHold) or graph://TENANT (Microsoft 365 users)')
      .requiredOption('--to <target>', 'maildir:ROOT, imap://USER@HOST:PORT, imaps://USER@HOST:PORT (password in XIP_IMAP_PASSWORD) or graph://TENANT (app in XIP_GRAPH_*)')
      .option('--auth <mode>', 'how an IMAP target logs in: auto, sasl-plain, master-user or oauth2-app (app-only OAuth 2.0, XIP_GRAPH_*)')
      .option('--mapping <csv>', 'custom mapping of source user ids: sourceId,mailbox')
      .option('--folder <name>', 'the folder each copy goes into', 'Inbox/XIP')
      .option('--catch-all <address>', 'the mailbox that receives items mapping to nobody')
      .option('--hold-only', 'import only into mailboxes on litigation hold')
      .option('--state <file>', `the ledger (SQLite; ${DATABASE_URL_ENV}=postgres://… puts it in PostgreSQL instead)`, './xip-state.db')
      .option('--connector <name>', 'the source name when neither the manifest nor xip.json names one', 'xip')
      .option('--staging <dir>', 'where containers are copied and verified (default: the system temporary directory)')
      .option('--batch-size <n>', 'copies sent to one mailbox in one batch', '200')
      .option('--concurrency <n>', 'batches in flight at once, each for another mailbox (default 4; 256 for graph://)')
      .description('verify, convert and deliver every item into the mailboxes of its participants, exactly once'),
  )
    .option('--json', "print the run's log as one JSON object")
    .action(async (files: string[], flags: ImportFlags, command: Command) => {
      setExit(
        await runAction(io, flags.json, async () => {
          if (databaseUrl(env) !== undefined && command.getOptionValueSource('state') === 'cli') {
            throw new XipError('USAGE', `--state names a SQLite ledger and ${DATABASE_URL_ENV} a PostgreSQL one: give one of them`);
          }
          const { trust, crls, at, limits } = await loadTrust(flags);
          const batchSize = wholeFlag('--batch-size', flags.batchSize);
          const concurrency = flags.concurrency === undefined ? undefined : wholeFlag('--concurrency', flags.concurrency);
          const spec = parseTarget(withAuth(flags.to, flags.auth), env);
          const directory = await readDirectory(flags.directory, flags.holdOnly ?? false, env);
          const mapping = flags.mapping ? loadMapping(await readText(flags.mapping, 'mapping'), flags.mapping, directory) : undefined;
          const options = mappingOptions({ directory, mapping, catchAll: flags.catchAll, holdOnly: flags.holdOnly ?? false });
          const crash = crashPoint(env[CRASH_ENV]);
          const target = await createTarget(spec);
          const { ledger } = await openDatabase(env, flags.state, 'import');
          try {
            const log = await runImport({
              source: fileSource(files),
              verify: { trust, crls, limits, ...(at ? { at } : {}), ...(flags.staging ? { stagingDir: flags.staging } : {}) },
              mapping: options,
              folder: flags.folder,
              target,
              ledger,
              connectorName: flags.connector,
              command: `xip import ${files.join(' ')} --to ${target.description}`,
              settings: { batchSize, concurrency },
              ...(crash ? { crash } : {}),
            });
            if (flags.json) io.out(JSON.stringify(log));
            else io.out(...formatRunLog(log).split('\n'));
            const ok = log.failed === 0 && log.containers.every((c) => c.ok);
            return ok ? EXIT_OK : EXIT_REJECTED;
          } finally {
            await target.close();
            await ledger.close();
          }
        }),
      );
    });
}
