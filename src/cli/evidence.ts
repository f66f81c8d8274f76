// xip evidence list | show SHA | export SHA -o FILE: what an auditor uses to
// take a file out of the evidence store exactly as it was received — checked
// against its SHA-256 on the way out, never overwriting anything.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { XipError } from '../errors.js';
import { evidenceDetailJson, evidenceJson } from '../evidence/view.js';
import { evidenceStoreFor } from '../home/evidence.js';
import { withInstallation } from './connector.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { shortPath } from './paths.js';

function checkSha(sha: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new XipError('EVIDENCE_NOT_FOUND', `"${sha.slice(0, 80)}" is not a SHA-256 (64 lower-case hex digits)`);
  return sha;
}

export function registerEvidence(program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv): void {
  const evidence = program.command('evidence').description('the files connectors received, kept as received (content-addressed, read-only)');
  const act = (json: boolean | undefined, body: () => Promise<number>) => runAction(io, json, body).then(setExit);

  evidence
    .command('list')
    .option('--json', 'print one JSON object')
    .description('every stored file, oldest first')
    .action((flags: { json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const rows = (await state.store.listEvidence()).map(evidenceJson);
          if (flags.json) io.out(JSON.stringify({ files: rows }));
          else if (rows.length === 0) io.out('the evidence store is empty');
          else for (const r of rows) io.out(`${r.sha256}  ${r.size}  ${r.storedAt}  ${r.verdict}${r.code ? ` ${r.code}` : ''}  ${r.firstConnector}: ${r.firstName}`);
          return EXIT_OK;
        }),
      ),
    );

  evidence
    .command('show')
    .argument('<sha256>')
    .option('--json', 'print one JSON object')
    .description('what is known of one file, and whether its bytes still match its SHA-256')
    .action((sha: string, flags: { json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const row = await state.store.getEvidence(checkSha(sha));
          if (!row) throw new XipError('EVIDENCE_NOT_FOUND', `no file ${sha} in the evidence store`);
          const intact = await evidenceStoreFor(state.home, env).check(sha);
          const container = await state.ledger.getContainer(sha);
          const out = evidenceDetailJson(row, intact, container);
          if (flags.json) io.out(JSON.stringify(out));
          else io.out(...JSON.stringify(out, null, 2).split('\n'));
          if (!intact) throw new XipError('EVIDENCE_CORRUPT', `the stored bytes of ${sha} no longer hash to it`);
          return EXIT_OK;
        }),
      ),
    );

  evidence
    .command('export')
    .argument('<sha256>')
    .requiredOption('-o, --output <file>', 'where to write it (must not exist)')
    .option('--json', 'print one JSON object')
    .description('copy one file out, checked against its SHA-256')
    .action((sha: string, flags: { output: string; json?: boolean }) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const store = evidenceStoreFor(state.home, env);
          const bytes = await store.open(checkSha(sha));
          const hash = createHash('sha256');
          const tap = new Transform({ transform: (chunk: Buffer, _e, cb) => (hash.update(chunk), cb(null, chunk)) });
          try {
            await pipeline(bytes, tap, createWriteStream(flags.output, { flags: 'wx', mode: 0o444 }));
          } catch (e) {
            const err = e as NodeJS.ErrnoException;
            if (err.code === 'EEXIST') throw new XipError('EXTRACT_TARGET_EXISTS', `${shortPath(flags.output)} already exists; nothing was overwritten`);
            await rm(flags.output, { force: true });
            throw e;
          }
          if (hash.digest('hex') !== sha) {
            await rm(flags.output, { force: true });
            throw new XipError('EVIDENCE_CORRUPT', `the stored bytes of ${sha} no longer hash to it; nothing was exported`);
          }
          io.out(flags.json ? JSON.stringify({ ok: true, sha256: sha, output: flags.output }) : `exported ${sha} to ${flags.output}`);
          return EXIT_OK;
        }),
      ),
    );
}
