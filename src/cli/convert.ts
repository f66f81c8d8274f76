// xip convert FILE --trust PEM … -o DIR [--json]: verify, then write one
// `<32 hex digits of SHA-256 of the Message-ID>.eml` per item (xip-items.md
// §1–3), several files at a time (convert-writer.ts), reported in item order.
import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { readItems, resolveSource, type ItemFailure } from '../items/index.js';
import { buildMessage, createMessageContext } from '../message/index.js';
import { openVerifiedContainer } from '../xip/container.js';
import { EmlWriter, emlFileName, TARGET_EXISTS } from './convert-writer.js';
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

/** One item's outcome, in item order; a converted one is replaced by its failure if its write fails. */
type Slot = Converted | ItemFailure;

const isFailure = (s: Slot): s is ItemFailure => 'code' in s;

function where(s: Slot): string {
  return `entry ${s.entry}${s.line !== undefined ? ` line ${s.line}` : ''}${s.id !== undefined ? ` (id ${s.id})` : ''}`;
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
          const slots: Slot[] = [];
          let unused: readonly string[] = [];
          try {
            await mkdir(flags.output, { recursive: true });
            const { source } = await resolveSource(container, { connectorName: flags.connector });
            const ctx = createMessageContext(container, source);
            const writer = new EmlWriter(flags.output);
            // Names are given out here, in item order: of two items with one
            // name the first is written and the second fails, whichever write
            // would have finished first.
            const named = new Map<string, number>(); // file -> its item's slot
            try {
              const items = readItems(container);
              for await (const result of items) {
                if (!result.ok) {
                  slots.push(result.failure);
                  continue;
                }
                const { item, origin } = result;
                const at = { entry: origin.entry, line: origin.line, id: item.id };
                let message;
                try {
                  message = await buildMessage(result, ctx);
                } catch (e) {
                  const err = e as Error & { code?: string };
                  slots.push({ ...at, message: err.message, code: err.code ?? 'IO_ERROR' });
                  continue;
                }
                const file = emlFileName(message.messageId);
                const converted: Converted = { id: item.id, messageId: message.messageId, file, entry: origin.entry, ...(origin.line !== undefined ? { line: origin.line } : {}) };
                const first = named.get(file);
                if (first !== undefined) {
                  slots.push({ ...at, code: TARGET_EXISTS, message: `${file} is already the file of ${where(slots[first]!)}, the same Message-ID; it was not replaced` });
                  continue;
                }
                const slot = slots.push(converted) - 1;
                named.set(file, slot);
                await writer.write(file, message, (outcome) => {
                  if (!outcome.ok) slots[slot] = { ...at, code: outcome.code, message: outcome.message };
                });
              }
              unused = items.unused();
            } finally {
              await writer.close(); // before the container, which the writes read from, is closed
            }
          } finally {
            await container.close();
          }
          const converted = slots.filter((s): s is Converted => !isFailure(s));
          const failed = slots.filter(isFailure);
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
