// xip demo: the main job on embedded defaults. Writes a throwaway signing
// PKI, a source folder with three days of signed exports (chats with
// threads, social posts, a shared document with a 12 MiB attachment, a
// colleague nobody maps, one file tampered with after signing) and a
// directory of users (src/demo/); sets up the connector "demo" over that
// folder into Maildir mailboxes under XIP_HOME (./var); runs it; prints the
// run's log and how to look at what was archived. Run again, it writes a
// fresh export of the same items: every copy is skipped as a duplicate.
//
// Lines starting with "$ " are commands that work when pasted into a shell
// in the folder the demo ran from (with the same XIP_HOME).
import { isAbsolute, join, relative, resolve } from 'node:path';
import { realpathSync, statSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatConnectorLog, summarize } from '../connector/connector-log.js';
import { writeDemoSource, type DemoSource } from '../demo/source-data.js';
import { loadConnector, sealConfig } from '../home/connectors.js';
import { homeFrom } from '../home/home.js';
import { runNamedConnector } from '../home/run-connector.js';
import { configFromFlags, editedConfig, type ConnectorFlags } from './connector-config.js';
import { withInstallation } from './connector.js';
import { EXIT_OK, EXIT_REJECTED, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { MARKER, prepareDemoDir, recordDemoFiles } from './demo-dir.js';
import { shellQuote } from './paths.js';

export const DEMO_CONNECTOR = 'demo';

/**
 * How a person runs this same `xip` from `cwd`: `xip` when the first `xip` on
 * the PATH is this very script (npm link, npm install -g), else
 * `node <this script>`. Never `npx xip`: outside the project's folder npx
 * fetches the registry's package of that name, which is someone else's.
 */
function xipCommand(script: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (script === undefined) return 'xip';
  const real = (p: string): string | undefined => {
    try {
      return statSync(p).isFile() ? realpathSync(p) : undefined;
    } catch {
      return undefined;
    }
  };
  const first = (env.PATH ?? '')
    .split(':')
    .filter((d) => isAbsolute(d))
    .map((d) => real(join(d, 'xip')))
    .find((p) => p !== undefined);
  if (first !== undefined && first === real(script)) return 'xip';
  const rel = relative(cwd, script);
  return `node ${shellQuote(rel.length < script.length ? rel : script)}`;
}

export function registerDemo(program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv): void {
  program
    .command('demo')
    .option('--dir <dir>', `where to write the demo's source data (default: XIP_HOME/demo): a new or empty folder, or one an earlier demo made (it holds ${MARKER}); only the demo's own files are replaced`)
    .description('set up and run a connector over three days of sample signed exports into Maildir mailboxes under XIP_HOME (./var), and show its log')
    .action(async (flags: { dir?: string }) => {
      setExit(
        await runAction(io, false, async () => {
          const home = homeFrom(env);
          const root = resolve(flags.dir ?? join(home.root, 'demo'));
          const cwd = process.cwd();
          const show = (p: string) => shellQuote(relative(cwd, p) || '.');
          await prepareDemoDir(root);
          let data: DemoSource;
          try {
            data = await writeDemoSource({ dir: root });
            // The exports arrive now: a connector knows a file it took by name, size and modification time.
            const now = new Date();
            for (const f of data.files) await utimes(join(data.sourceDir, f.name), now, now);
          } finally {
            await recordDemoFiles(root);
          }
          return demo(data, show, xipCommand(process.argv[1], env, cwd));
        }),
      );
    });

  async function demo(data: DemoSource, show: (p: string) => string, xip: string): Promise<number> {
    return withInstallation(env, async (state) => {
      const mail = join(state.home.root, 'mail');
      const days = [...new Set(data.files.map((f) => f.day))].sort();
      io.out(
        `1. Wrote a throwaway signing PKI and ${data.files.length} signed exports over ${days.length} days (${days[0]} to ${days.at(-1)}) into ${show(data.sourceDir)},`,
        `   one of them tampered with after signing, and a directory of users ${show(data.directoryCsv)}.`,
      );
      const flags: ConnectorFlags = { source: data.sourceDir, trust: [data.trustPem], directory: data.directoryCsv, mapping: data.mappingCsv, to: `maildir:${mail}`, settleSeconds: '1' };
      const existing = await state.store.getConnector(DEMO_CONNECTOR);
      if (existing) {
        const { config } = await loadConnector(state.store, state.box, DEMO_CONNECTOR);
        await state.store.updateConnector(DEMO_CONNECTOR, sealConfig(await editedConfig(state.home, config, flags, {}), state.box));
        if (existing.paused) await state.store.setPaused(DEMO_CONNECTOR, false);
        io.out(`2. The connector "${DEMO_CONNECTOR}" exists from an earlier demo: its trust anchor is now this demo's new CA.`);
      } else {
        await state.store.addConnector(DEMO_CONNECTOR, sealConfig(await configFromFlags(state.home, DEMO_CONNECTOR, flags, {}), state.box));
        io.out(
          `2. Set up the connector "${DEMO_CONNECTOR}" (state in ${show(state.home.root)}), as this command does:`,
          `   xip connector add ${DEMO_CONNECTOR} --source ${show(data.sourceDir)} --trust ${show(data.trustPem)} --directory ${show(data.directoryCsv)} --mapping ${show(data.mappingCsv)} --to maildir:${show(mail)}`,
        );
      }
      const log = await runNamedConnector(state, { name: DEMO_CONNECTOR, trigger: 'manual', settleMs: 200 });
      const [run] = await state.store.listRuns(DEMO_CONNECTOR, 1);
      const failures = await state.ledger.getFailures(log.runId!);
      io.out(`3. Ran it once (the schedule runs it every day at 02:00 under xip serve):`, `   $ ${xip} connector run ${DEMO_CONNECTOR}`);
      const runLog = { runId: log.runId!, connector: DEMO_CONNECTOR, trigger: 'manual', startedAt: run!.startedAt, completedAt: run!.finishedAt, ok: run!.ok, code: run!.code, log };
      io.out(...formatConnectorLog(runLog, failures).map((l) => `   ${l}`));
      const tampered = data.files.find((f) => f.tampered)!;
      const s = summarize(log);
      const repeat = s.skippedDuplicates > 0 && s.imported === 0;
      io.out(
        '',
        repeat
          ? `4. This demo ran before: the new export of the same items was delivered already, so every copy was skipped as a duplicate (exactly once).`
          : `4. The archived messages: ${s.imported} copies in the mailboxes of the participants, in ${show(join(mail, '<address>', '.INBOX.XIP', 'cur'))}.`,
        `   Look at them with any mail client that reads Maildir, or Dovecot (mail_location = maildir:${relative(process.cwd(), mail) || '.'}/%u).`,
        `   The tampered export was kept as evidence and rejected with its code (exit 1 here):`,
        `   $ ${xip} verify ${show(join(data.sourceDir, tampered.name))} --trust ${show(data.trustPem)}`,
        '',
        'More to try:',
        `  $ ${xip} connector runs ${DEMO_CONNECTOR}`,
        `  $ ${xip} connector log ${DEMO_CONNECTOR} --csv`,
        `  $ ${xip} evidence list`,
        `  $ ${xip} connector show ${DEMO_CONNECTOR}`,
        `  Run the demo again: a fresh export of the same items, every copy skipped as a duplicate.`,
      );
      const rejected = log.containers.find((c) => c.file === tampered.name);
      const worked = rejected?.code === data.expected.tamperedCode && s.itemsAvailableFromSource === data.expected.itemsFromSource && s.failed === 0 && (s.imported === data.expected.copies || repeat);
      return worked ? EXIT_OK : EXIT_REJECTED;
    });
  }
}
