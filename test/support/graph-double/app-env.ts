// The environment `xip` reads to reach a contract double of Microsoft Graph
// as its app (XIP_GRAPH_*), with the certificate and key written as PEM
// files into `dir`, the way an admin gives them, and the double's CA trusted
// through NODE_EXTRA_CA_CERTS. No IMAP route: the double has none.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GraphDouble } from './index.js';

export function appEnv(double: GraphDouble, dir: string): Record<string, string> {
  writeFileSync(join(dir, 'app.crt'), double.certificatePem);
  writeFileSync(join(dir, 'app.key'), double.privateKeyPem!);
  return {
    XIP_GRAPH_CLIENT_ID: double.clientId,
    XIP_GRAPH_CERT: join(dir, 'app.crt'),
    XIP_GRAPH_KEY: join(dir, 'app.key'),
    XIP_GRAPH_URL: double.url,
    XIP_GRAPH_LOGIN_URL: double.loginUrl,
    XIP_GRAPH_IMAP_URL: 'none',
    NODE_EXTRA_CA_CERTS: double.caPath,
  };
}
