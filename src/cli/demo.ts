// xip demo: the main job on embedded defaults. Issues a throwaway CA and
// signer, packs sample source items, verifies the container, shows a tampered
// copy being rejected, extracts the verified one and imports it, printing the
// command that does each step: every line starting with "$ " works when
// pasted into a shell in the folder the demo ran from.
import { mkdir, open, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createWriteStream, realpathSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import yazl from 'yazl';
import { resolveZipLimits } from '../limits.js';
import { loadPrivateKey, parseCertificates } from '../xip/cms/index.js';
import { extractFile } from '../xip/extract.js';
import { issueSigningIdentity } from '../xip/keys.js';
import { packDirectory } from '../xip/pack.js';
import { verifyFile } from '../xip/verify.js';
import { openZip } from '../xip/zip/reader.js';
import { EXIT_OK, EXIT_REJECTED, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { reportLine } from './verify.js';
import { XipError } from '../errors.js';
import { runImport } from '../connector/import-run.js';
import { fileSource } from '../sources/files.js';
import { formatRunLog, type RunLogJson } from '../connector/run-log.js';
import { createMaildirTarget } from '../delivery/index.js';
import { openSqliteLedger } from '../ledger/sqlite.js';
import { loadDirectory, mappingOptions } from '../mapping/index.js';
import { MARKER, prepareDemoDir, recordDemoFiles } from './demo-dir.js';
import { shellQuote } from './paths.js';

const SOURCE = 'demo-chat';

function sampleItems(): string {
  const items = [
    {
      id: 'demo-000001',
      type: 'chat.message',
      sentAt: '2026-11-22T14:03:11.120+01:00',
      from: { name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-991' },
      participants: [
        { name: 'Bo Chen', email: 'bo@corp.example', sourceId: 'u-104', role: 'to' },
        { name: 'Client Desk', email: 'desk@client.example', role: 'cc' },
      ],
      conversation: { id: 'room-42', title: 'FX desk' },
      subject: 'EUR/CHF quote',
      body: { text: 'Can you quote 5m?', html: '<p>Can you quote 5m?</p>' },
      attachments: [{ path: 'attachments/000001/quote.txt', name: 'quote.txt', contentType: 'text/plain' }],
      properties: { platform: 'DemoChat', deskId: 'FX-3' },
    },
    {
      id: 'demo-000002',
      type: 'chat.message',
      sentAt: '2026-11-22T14:04:02.000+01:00',
      from: { name: 'Bo Chen', email: 'bo@corp.example', sourceId: 'u-104' },
      participants: [{ name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-991', role: 'to' }],
      conversation: { id: 'room-42', title: 'FX desk' },
      body: { text: '0.9412 / 0.9418, firm for 30 seconds.' },
    },
    {
      id: 'demo-000003',
      type: 'chat.message',
      sentAt: '2026-11-22T14:04:30.500+01:00',
      from: { name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-991' },
      participants: [{ name: 'Bo Chen', email: 'bo@corp.example', sourceId: 'u-104', role: 'to' }],
      conversation: { id: 'room-42', title: 'FX desk' },
      body: { text: 'Done at 0.9418. Thanks — confirming by e-mail.' },
    },
  ];
  return items.map((i) => JSON.stringify(i)).join('\n') + '\n';
}

/** A copy of a container with one entry's bytes replaced and nothing else changed: tampering after signing. */
async function tamper(source: string, target: string, entryName: string, edit: (bytes: Buffer) => Buffer): Promise<void> {
  const handle = await open(source, 'r');
  try {
    const archive = await openZip(handle, resolveZipLimits());
    const zip = new yazl.ZipFile();
    for (const entry of archive.entries) {
      const bytes = await archive.readEntry(entry, 16 * 1024 * 1024);
      zip.addBuffer(entry.name === entryName ? edit(bytes) : bytes, entry.name, { compress: entry.compressionMethod === 8, forceDosTimestamp: true });
    }
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(target, { flags: 'wx' }));
  } finally {
    await handle.close();
  }
}

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
    .option('--dir <dir>', `where to put the demo files: a new or empty folder, or one an earlier demo made (it holds ${MARKER}); only the demo's own files are replaced`, 'demo-out')
    .description('issue a demo signing identity, pack sample items, verify them, show a tampered copy rejected, and import them into Maildir mailboxes')
    .action(async (flags: { dir: string }) => {
      setExit(
        await runAction(io, false, async () => {
          const root = resolve(flags.dir);
          const cwd = process.cwd();
          const show = (p: string) => shellQuote(relative(cwd, p) || '.');
          const xip = xipCommand(process.argv[1], env, cwd);
          await prepareDemoDir(root);
          try {
            return await demo(root, show, xip);
          } finally {
            await recordDemoFiles(root);
          }
        }),
      );
    });

  async function demo(root: string, show: (p: string) => string, xipCmd: string): Promise<number> {
    const keys = join(root, 'keys');
    const src = join(root, 'source');
    const exclusive = { flag: 'wx' } as const; // the demo never replaces a file
    await mkdir(keys);
    await mkdir(join(src, 'items', '2026-11-22'), { recursive: true });
    await mkdir(join(src, 'attachments', '000001'), { recursive: true });
    const caPem = join(keys, 'ca.pem');

    io.out('1. Issuing a throwaway CA and signer certificate (ECDSA P-256)…');
    const id = issueSigningIdentity({ caName: 'xip demo CA', signerName: 'xip demo export signer', organization: 'Example Corp' });
    await writeFile(caPem, id.caCertificatePem, exclusive);
    await writeFile(join(keys, 'signer.pem'), id.certificatePem, exclusive);
    await writeFile(join(keys, 'signer.key'), id.privateKeyPem, { ...exclusive, mode: 0o600 });
    io.out(`   trust anchor ${show(caPem)}, signer ${show(join(keys, 'signer.pem'))}`);

    io.out('2. Writing sample source items (3 chat messages, one attachment)…');
    await writeFile(join(src, 'items', '2026-11-22', 'chat.ndjson'), sampleItems(), exclusive);
    await writeFile(join(src, 'attachments', '000001', 'quote.txt'), 'EUR/CHF 5,000,000 indicative 0.9412 / 0.9418\n', exclusive);
    await writeFile(join(src, 'xip.json'), JSON.stringify({ source: SOURCE, exportedFrom: '2026-11-22T00:00:00Z', exportedTo: '2026-11-23T00:00:00Z', items: 3 }, null, 2) + '\n', exclusive);

    const xip = join(root, 'sample.xip');
    const certificate = parseCertificates(Buffer.from(id.certificatePem), 'signer.pem')[0]!;
    const trust = parseCertificates(Buffer.from(id.caCertificatePem), 'ca.pem');
    const packed = await packDirectory({ dir: src, output: xip, certificate, privateKey: loadPrivateKey(Buffer.from(id.privateKeyPem), 'signer.key'), source: SOURCE });
    io.out(`3. Packed ${packed.entries.length} data entries (${packed.package?.items ?? 0} items) into ${show(xip)}`);

    const report = await verifyFile(xip, { trust });
    io.out('4. Verified it:', `   $ ${xipCmd} verify ${show(xip)} --trust ${show(caPem)}`, `   ${reportLine(report)}`);

    const tampered = join(root, 'tampered.xip');
    await tamper(xip, tampered, 'items/2026-11-22/chat.ndjson', (b) => Buffer.from(b.toString('utf8').replace('Can you quote 5m?', 'Can you quote 50m?')));
    let rejected: XipError | undefined;
    try {
      await verifyFile(tampered, { trust });
    } catch (e) {
      if (!(e instanceof XipError)) throw e;
      rejected = e;
    }
    io.out(`5. A copy with one chat line edited after signing is rejected (exit 1):`, `   $ ${xipCmd} verify ${show(tampered)} --trust ${show(caPem)}`);
    io.out(rejected ? `   ${rejected.code}: ${rejected.explanation}` : '   UNEXPECTED: the tampered copy verified');

    const out = join(root, 'extracted');
    const { written } = await extractFile(xip, { dest: out, trust });
    io.out(`6. Extracted the verified container: ${written.length} files under ${show(out)}`);

    // The main job: import into the organisation's mailboxes (Maildir, the embedded default).
    const users = 'email,name,aliases,litigationHold\nana@corp.example,Ana Ruiz,a.ruiz@corp.example,true\nbo@corp.example,Bo Chen,,false\n';
    const usersCsv = join(root, 'users.csv');
    await writeFile(usersCsv, users, exclusive);
    const directory = loadDirectory(users, 'users.csv');
    const mail = join(root, 'mail');
    const state = join(root, 'xip-state.db');
    const importOnce = async (): Promise<RunLogJson> => {
      const target = createMaildirTarget({ root: mail });
      const ledger = await openSqliteLedger(state);
      try {
        return await runImport({
          source: fileSource([xip]),
          verify: { trust },
          mapping: mappingOptions({ directory }),
          folder: 'Inbox/XIP',
          target,
          ledger,
          connectorName: 'demo',
          command: 'xip demo',
        });
      } finally {
        await target.close();
        await ledger.close();
      }
    };
    const first = await importOnce();
    io.out('7. Imported it into the mailboxes of its participants:', `   $ ${xipCmd} import ${show(xip)} --trust ${show(caPem)} --directory ${show(usersCsv)} --to maildir:${show(mail)} --state ${show(state)}`);
    io.out(...formatRunLog(first).split('\n').map((l) => `   ${l}`));
    const again = await importOnce();
    io.out(`8. The same container again: ${again.imported} imported, ${again.skippedDuplicates} skipped as duplicates (exactly once; the command of step 7 does the same).`);
    const plain = (p: string) => relative(process.cwd(), p) || '.';
    io.out(`   Each mailbox's copies are in ${plain(join(mail, '<address>', '.INBOX.XIP', 'cur'))} (Dovecot: mail_location = maildir:${plain(mail)}/%u).`);
    // Commands pasted from here write nothing into the demo's folder, so that
    // the next demo finds only its own files there.
    io.out(
      '',
      'Try it yourself:',
      `  $ ${xipCmd} inspect ${show(xip)}`,
      `  $ ${xipCmd} verify ${show(xip)} --trust ${show(caPem)} --json`,
      '  and with standard tools (docs/xip-format.md), unzipped into a new temporary folder:',
      `  $ x=$(mktemp -d) && unzip -q -d "$x" ${show(xip)} && openssl cms -verify -binary -inform DER -purpose any -in "$x/META-INF/signature.p7s" -content "$x/META-INF/ASiCManifest.xml" -CAfile ${show(caPem)} -out /dev/null`,
    );
    const worked = rejected?.code === 'DIGEST_MISMATCH' && first.imported > 0 && first.failed === 0 && again.imported === 0;
    return worked ? EXIT_OK : EXIT_REJECTED;
  }
}
