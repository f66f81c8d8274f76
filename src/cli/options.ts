// Option declarations shared by the commands that verify.
import type { Command } from 'commander';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addTrustOptions(cmd: Command): Command {
  return cmd
    .option('--trust <pem>', 'a trusted certificate file (PEM or DER; repeat for more); every one is a trust anchor', collect)
    .option('--crl <crl>', 'a CRL file (PEM or DER; repeat for more)', collect)
    .option('--at <time>', 'validate at this RFC 3339 time instead of a time-stamp or now')
    .option('--max-entries <n>', 'refuse containers with more entries (default 1000000)')
    .option('--max-total-size <bytes>', 'refuse containers with more uncompressed bytes (default 68719476736 = 64 GiB)')
    .option('--max-ratio <n>', 'refuse entries over 1 MiB compressed more than this (default 200)');
}
