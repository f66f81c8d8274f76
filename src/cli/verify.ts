// xip verify FILE --trust PEM … [--crl CRL …] [--at TIME] [--json]
import type { Command } from 'commander';
import { verifyFile, type VerifyReport } from '../xip/verify.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { addTrustOptions } from './options.js';
import { loadTrust, type TrustFlags } from './trust-options.js';

export function reportJson(report: VerifyReport): Record<string, unknown> {
  return {
    ok: true,
    signer: report.signer,
    chain: report.chain,
    validationTime: report.validationTime,
    validationTimeSource: report.validationTimeSource,
    signingTime: report.signingTime,
    package: report.package,
    entries: report.entries.map((e) => ({ name: e.name, size: e.size, sha256: e.sha256 })),
    warnings: report.warnings,
  };
}

export function reportLine(report: VerifyReport): string {
  const n = report.entries.length;
  return `OK: signed by ${report.signer.subject} (certificate sha256 ${report.signer.sha256}); ${n} data ${n === 1 ? 'entry' : 'entries'} verified; validation time ${report.validationTime} (${report.validationTimeSource})`;
}

export function registerVerify(program: Command, io: Output, setExit: SetExit): void {
  addTrustOptions(program.command('verify').argument('<file>', 'the XIP file').description("run the spec's verification steps and report the verdict"))
    .option('--json', 'print one JSON object')
    .action(async (file: string, flags: TrustFlags & { json?: boolean }) => {
      setExit(
        await runAction(io, flags.json, async () => {
          const { trust, crls, at, limits } = await loadTrust(flags);
          const report = await verifyFile(file, { trust, crls, limits, ...(at ? { at } : {}) });
          if (flags.json) io.out(JSON.stringify(reportJson(report)));
          else {
            io.out(reportLine(report));
            for (const w of report.warnings) io.err(`warning: ${w}`);
          }
          return EXIT_OK;
        }),
      );
    });
}
