// Starts a contract double of Microsoft Graph in a process of its own (for a
// bench): `node --import tsx test/support/graph-double/main.ts '<options JSON>'`.
// The options are GraphDoubleOptions as JSON. Prints ONE JSON line on stdout
// once it listens — {url, loginUrl, introspectionUrl, controlUrl, caPath,
// tenant, tenantId, clientId, clientSecret, certificatePem, privateKeyPem,
// certificateThumbprint, certificateThumbprintSha256} — and stops on SIGTERM,
// SIGINT or the end of stdin (so it dies with its parent). The control API
// (stats, fail, …) is under controlUrl (control.ts).
import { startGraphDouble, type GraphDoubleOptions } from './index.js';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as GraphDoubleOptions;
  const double = await startGraphDouble(options);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    double.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  const { url, loginUrl, introspectionUrl, caPath, tenant, tenantId, clientId, clientSecret, certificatePem, privateKeyPem, certificateThumbprint, certificateThumbprintSha256 } = double;
  const controlUrl = introspectionUrl.replace(/\/introspect$/, '/_double');
  process.stdout.write(`${JSON.stringify({ url, loginUrl, introspectionUrl, controlUrl, caPath, tenant, tenantId, clientId, clientSecret, certificatePem, privateKeyPem, certificateThumbprint, certificateThumbprintSha256 })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`graph double: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
