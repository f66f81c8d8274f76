// The Graph target pointed at a contract double of Microsoft Graph
// (test/support/graph-double/): its roots, its app, its CA, short retries.
import type { GraphDouble } from '../../../../test/support/graph-double/index.js';
import { createGraphTarget, type GraphTargetOptions } from '../index.js';

export function graphTargetOn(double: GraphDouble, extra: Partial<GraphTargetOptions> = {}) {
  return createGraphTarget({
    tenant: double.tenant,
    clientId: double.clientId,
    credential: double.privateKeyPem ? { kind: 'certificate', certificatePem: double.certificatePem, privateKeyPem: double.privateKeyPem } : { kind: 'secret', secret: double.clientSecret },
    graphUrl: double.url,
    loginUrl: double.loginUrl,
    http: { ca: double.caPem },
    retry: { retries: 3, baseDelayMs: 5, maxDelayMs: 50 },
    ...extra,
  });
}
