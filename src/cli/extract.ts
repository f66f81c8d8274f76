// xip extract FILE -d DIR --trust PEM … : verify, then write the data entries under DIR.
import type { Command } from 'commander';
import { extractFile } from '../xip/extract.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { addTrustOptions } from './options.js';
import { loadTrust, type TrustFlags } from './trust-options.js';
import { reportJson, reportLine } from './verify.js';

export function registerExtract(program: Command, io: Output, setExit: SetExit): void {
  addTrustOptions(
    program
      .command('extract')
      .argument('<file>', 'the XIP file')
      .requiredOption('-d, --dir <dir>', 'destination directory (created when missing); existing files are never replaced')
      .description('verify, then write the data entries under the destination; nothing is written unless verification passed'),
  )
    .option('--json', 'print one JSON object')
    .action(async (file: string, flags: TrustFlags & { dir: string; json?: boolean }) => {
      setExit(
        await runAction(io, flags.json, async () => {
          const { trust, crls, at, limits } = await loadTrust(flags);
          const { report, written } = await extractFile(file, { dest: flags.dir, trust, crls, limits, ...(at ? { at } : {}) });
          if (flags.json) io.out(JSON.stringify({ ...reportJson(report), written }));
          else io.out(reportLine(report), `extracted ${written.length} ${written.length === 1 ? 'file' : 'files'} under ${flags.dir}`);
          return EXIT_OK;
        }),
      );
    });
}
