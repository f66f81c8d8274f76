// /metrics for Prometheus, from a registry of its own (not prom-client's
// global one, which other code in the process could fill). The figures come
// from the runs the ledger records, read at scrape time (run-tally.ts), so
// that runs started by the scheduler, by the console or by `xip connector
// run` in a shell all count, each once:
//   xip_connector_runs_total{connector,outcome}        succeeded | failed | completed_with_errors
//   xip_connector_items_total{connector,outcome}       copies: imported | skipped_duplicate | failed
//   xip_connector_failures_total{connector,code}       failure lines, rejected containers and run codes
//   xip_connector_run_duration_seconds{connector}      histogram
//   xip_connector_last_success_timestamp_seconds{connector}
// Counters start, at the first scrape of a process, from the connector's
// history (its last 1,000 runs).
//
// No auth by default (the figures hold connector names and counts, no
// content); with the option metricsToken, a scrape must send
// "Authorization: Bearer <token>" (compared in constant time).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { XipError } from '../../errors.js';
import { PUBLIC } from '../access.js';
import { errorResponses } from '../errors.js';
import type { RunTally } from '../run-tally.js';
import { sameSecret } from '../secrets.js';

export interface MetricsOptions {
  readonly tally: RunTally;
  readonly token: string | undefined;
}

export const DURATION_BUCKETS = [1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14_400, 43_200];

export function runMetrics(tally: RunTally): Registry {
  const registry = new Registry();
  const registers = [registry];
  const runs = new Counter({ name: 'xip_connector_runs_total', help: 'Finished runs of each connector, by outcome', labelNames: ['connector', 'outcome'] as const, registers });
  const items = new Counter({ name: 'xip_connector_items_total', help: 'Copies (an item in one mailbox) handled by runs, by outcome', labelNames: ['connector', 'outcome'] as const, registers });
  const failures = new Counter({ name: 'xip_connector_failures_total', help: 'Failures of runs by error code: items and copies failed, containers rejected, runs stopped', labelNames: ['connector', 'code'] as const, registers });
  const duration = new Histogram({ name: 'xip_connector_run_duration_seconds', help: 'How long finished runs took', labelNames: ['connector'] as const, buckets: DURATION_BUCKETS, registers });
  const lastSuccess = new Gauge({ name: 'xip_connector_last_success_timestamp_seconds', help: 'When the last successful run of each connector finished (Unix time)', labelNames: ['connector'] as const, registers });

  tally.onRun((run) => {
    const connector = run.connector;
    runs.inc({ connector, outcome: run.outcome });
    duration.observe({ connector }, run.durationSeconds);
    if (run.summary) {
      items.inc({ connector, outcome: 'imported' }, run.summary.imported);
      items.inc({ connector, outcome: 'skipped_duplicate' }, run.summary.skippedDuplicates);
      items.inc({ connector, outcome: 'failed' }, run.summary.failed);
    }
    for (const [code, n] of run.failures) failures.inc({ connector, code }, n);
    const last = tally.totals(connector).lastSuccess;
    if (last) lastSuccess.set({ connector }, last.getTime() / 1000);
  });
  return registry;
}

export const metricsRoutes: FastifyPluginAsyncZod<MetricsOptions> = async (app, { tally, token }) => {
  const registry = runMetrics(tally);
  app.get(
    '/metrics',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics of the connectors’ runs',
        response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } }, ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      if (token !== undefined) {
        const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (given === undefined || !sameSecret(given, token)) throw new XipError('AUTH_REQUIRED', 'this server asks for Authorization: Bearer <metrics token>');
      }
      await tally.refresh();
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
};
