// xip inspect FILE [--json]: structure, manifest and signer as found, no trust decision.
import type { Command } from 'commander';
import { inspectFile, type InspectReport } from '../xip/inspect.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';

function plain(r: InspectReport): string[] {
  const lines = [`${r.file}: ${r.size} bytes`];
  if (!r.zip.ok) {
    lines.push(`zip: ${r.zip.code}: ${r.zip.message}`);
    return lines;
  }
  lines.push(`entries (${r.zip.entries.length}):`);
  for (const e of r.zip.entries) lines.push(`  ${e.method.padEnd(7)} ${String(e.size).padStart(12)} ${String(e.compressedSize).padStart(12)}  ${e.crc32}  ${e.name}`);
  const m = r.manifest;
  if (m && m.ok) {
    lines.push(`manifest ${m.name}: signature ${m.signatureName}, ${m.references.length} references`);
    if (m.package) lines.push(`  package: source ${m.package.source}, created ${m.package.created}, ${m.package.items} items`);
    for (const ref of m.references) lines.push(`  ${ref.digestAlgorithm} ${ref.digest}  ${ref.name} (${ref.mimeType})`);
  } else if (m) lines.push(`manifest: ${m.code}: ${m.message}`);
  const s = r.signature;
  if (s && s.ok) {
    lines.push(`signature ${s.name}: ${s.digestAlgorithm}, signing time ${s.signingTime ?? 'none'}, time-stamp token ${s.timestampToken ? 'present' : 'absent'}`);
    lines.push(`  signer: ${s.signer.subject} (issuer ${s.signer.issuer}; valid ${s.signer.notBefore} to ${s.signer.notAfter}; sha256 ${s.signer.sha256})`);
    for (const c of s.certificates) if (c.sha256 !== s.signer.sha256) lines.push(`  certificate: ${c.subject} (issuer ${c.issuer})`);
  } else if (s) lines.push(`signature: ${s.code}: ${s.message}`);
  lines.push('(no trust decision was made: use xip verify)');
  return lines;
}

export function registerInspect(program: Command, io: Output, setExit: SetExit): void {
  program
    .command('inspect')
    .argument('<file>', 'the XIP file')
    .option('--json', 'print one JSON object')
    .description('show the structure, the manifest and the signer as found, with no trust decision')
    .action(async (file: string, flags: { json?: boolean }) => {
      setExit(
        await runAction(io, flags.json, async () => {
          const report = await inspectFile(file);
          if (flags.json) io.out(JSON.stringify(report));
          else io.out(...plain(report));
          return EXIT_OK;
        }),
      );
    });
}
