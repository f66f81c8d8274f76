// xip pack DIR -o FILE --cert PEM --key PEM [--chain PEM …] [--source NAME]
//   [--store] [--force] [--allow-invalid-cert] [--json]
import type { Command } from 'commander';
import { XipError } from '../errors.js';
import { loadPrivateKey, parseCertificates } from '../xip/cms/index.js';
import { packDirectory } from '../xip/pack.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';
import { collect } from './options.js';
import { shortPath } from './paths.js';
import { readInput } from './trust-options.js';

interface PackFlags {
  output: string;
  cert: string;
  key: string;
  chain?: string[];
  source?: string;
  store?: boolean;
  force?: boolean;
  allowInvalidCert?: boolean;
  json?: boolean;
}

export function registerPack(program: Command, io: Output, setExit: SetExit): void {
  program
    .command('pack')
    .argument('<dir>', 'directory whose files become the data entries')
    .requiredOption('-o, --output <file>', 'the XIP file to write')
    .requiredOption('--cert <pem>', "the signer's certificate (PEM)")
    .requiredOption('--key <pem>', "the signer's private key (PEM: RSA ≥ 2048 bits, ECDSA P-256 or P-384)")
    .option('--chain <pem>', 'intermediate certificates to include (repeat for more)', collect)
    .option('--source <name>', "the source platform's name for the manifest's xip:Package (default: source of DIR/xip.json)")
    .option('--store', 'store every entry uncompressed')
    .option('--force', 'replace the output if it is a regular file (anything else is never replaced)')
    .option('--allow-invalid-cert', 'sign even with a certificate verification would reject now (expired, not yet valid, wrong key usage), with a warning')
    .option('--json', 'print one JSON object')
    .description('sign every file under DIR into an XIP container (entries sorted, manifest, CAdES signature)')
    .action(async (dir: string, flags: PackFlags) => {
      setExit(
        await runAction(io, flags.json, async () => {
          const certs = parseCertificates(await readInput(flags.cert), flags.cert);
          const certificate = certs[0];
          if (!certificate) throw new XipError('KEY_INVALID', `${shortPath(flags.cert)} holds no certificate`);
          const chain = [...certs.slice(1)];
          for (const path of flags.chain ?? []) chain.push(...parseCertificates(await readInput(path), path));
          const privateKey = loadPrivateKey(await readInput(flags.key), flags.key);
          const result = await packDirectory({
            dir,
            output: flags.output,
            certificate,
            privateKey,
            chain,
            ...(flags.source !== undefined ? { source: flags.source } : {}),
            ...(flags.store ? { compression: 'store' as const } : {}),
            force: flags.force ?? false,
            allowInvalidCertificate: flags.allowInvalidCert ?? false,
          });
          for (const w of result.warnings) io.err(`warning: ${w}`);
          if (flags.json) io.out(JSON.stringify({ ok: true, output: result.output, package: result.package, entries: result.entries, warnings: result.warnings }));
          else {
            const n = result.entries.length;
            io.out(`packed ${n} data ${n === 1 ? 'entry' : 'entries'}${result.package ? ` (${result.package.items} items from ${result.package.source})` : ''} into ${result.output}`);
            if (!result.package) io.err('warning: no --source and no xip.json source: the manifest has no xip:Package extension');
          }
          return EXIT_OK;
        }),
      );
    });
}
