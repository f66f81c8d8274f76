// xip convert FILE --trust PEM … -o DIR [--json]: verify, then write one
// `<32 hex digits of the Message-ID>.eml` per item (xip-items.md §1–3).
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readItems, resolveSource, type ItemFailure } from '../items/index.js';
import { buildMessage, createMessageContext } from '../message/index.js';
import { openVerifiedContainer } from '../xip/container.js';
import { EXIT_OK, EXIT_REJECTED, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { addTrustOptions } from './options.js';
import { loadTrust, type TrustFlags } from './trust-options.js';

interface ConvertFlags extends TrustFlags {
  output: string;
  connector: string;
  staging?: string;
  json?: boolean;
}

interface Converted {
  id: string;
  messageId: string;
  file: string;
  entry: string;
  line?: number;
}

/** Writes the message next to its final name and renames it, so a reader never sees half a message. */
async function writeMessage(path: string, source: NodeJS.ReadableStream): Promise<void> {
  const temp = `${path}.partial`;
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(temp);
      out.on('error', reject);
      out.on('finish', resolve);
      source.on('error', (e) => {
        out.destroy();
        reject(e);
      });
      source.pipe(out);
    });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

export function registerConvert(program: Command, io: Output, setExit: SetExit): void {
  addTrustOptions(
    program
      .command('convert')
      .argument('<file>', 'the XIP file')
      .requiredOption('-o, --output <dir>', 'directory for the .eml files (created when missing)')
      .option('--connector <name>', 'the source name when neither the manifest nor xip.json names one', 'xip')
      .option('--staging <dir>', 'where the private copy of the container is verified (default: the system temporary directory)')
      .description('verify, then turn every item into an RFC 5322 message file named after its Message-ID'),
  )
    .option('--json', 'print one JSON object')
    .action(async (file: string, flags: ConvertFlags) => {
      setExit(
        await runAction(io, flags.json, async () => {
          const { trust, crls, at, limits } = await loadTrust(flags);
          const container = await openVerifiedContainer(file, { trust, crls, limits, ...(at ? { at } : {}), ...(flags.staging ? { stagingDir: flags.staging } : {}) });
          const converted: Converted[] = [];
          const failed: ItemFailure[] = [];
          let unused: readonly string[] = [];
          try {
            await mkdir(flags.output, { recursive: true });
            const { source } = await resolveSource(container, { connectorName: flags.connector });
            const ctx = createMessageContext(container, source);
            const items = readItems(container);
            for await (const result of items) {
              if (!result.ok) {
                failed.push(result.failure);
                continue;
              }
              const { item, origin } = result;
              try {
                const message = await buildMessage(result, ctx);
                const name = `${message.messageId.slice(1, 33)}.eml`;
                await writeMessage(join(flags.output, name), message.open());
                converted.push({ id: item.id, messageId: message.messageId, file: name, entry: origin.entry, ...(origin.line !== undefined ? { line: origin.line } : {}) });
              } catch (e) {
                const err = e as Error & { code?: string };
                failed.push({ entry: origin.entry, line: origin.line, id: item.id, message: err.message, code: err.code ?? 'IO_ERROR' });
              }
            }
            unused = items.unused();
          } finally {
            await container.close();
          }
          if (flags.json) {
            io.out(JSON.stringify({ ok: failed.length === 0, container: { sha256: container.sha256, signer: container.signer, source: container.packageSource ?? null }, items: converted, failed, unused }));
          } else {
            io.out(`converted ${converted.length} ${converted.length === 1 ? 'item' : 'items'} into ${flags.output}; ${failed.length} failed`);
            for (const f of failed) io.out(`${f.code}: ${f.entry}${f.line !== undefined ? ` line ${f.line}` : ''}${f.id !== undefined ? ` (id ${f.id})` : ''}: ${f.message}`);
            for (const u of unused) io.err(`warning: entry ${u} is neither an item nor named by one`);
          }
          return failed.length === 0 ? EXIT_OK : EXIT_REJECTED;
        }),
      );
    });
}
