// What a person or a log collector sees while a connector runs. On a
// terminal: a progress bar (items read of the items the containers declare,
// rate, time left). Otherwise: structured JSON lines through pino, one per
// container and one per run — never a secret: events carry file names,
// digests, counts and codes only, and the source's description has no
// password, key or SAS in it.
import cliProgress from 'cli-progress';
import pino, { type Logger } from 'pino';
import type { ConnectorEvent } from '../connector/daily.js';
import type { RunLogJson } from '../connector/run-log.js';
import { summarize } from '../connector/connector-log.js';

export interface RunReporter {
  readonly onEvent: (e: ConnectorEvent) => void;
  /** The run ended with this log (or failed with this code). */
  end(result: { log: RunLogJson } | { code: string; message: string }): void;
}

/** pino to a file descriptor (2: stderr), written synchronously so that a line is out before a crash or exit. */
export function jsonLogger(fd = 2, extra?: NodeJS.WritableStream): Logger {
  const destination = pino.destination({ fd, sync: true });
  const stream = extra ? pino.multistream([{ stream: destination }, { stream: extra }]) : destination;
  return pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, stream);
}

export function logReporter(logger: Logger, connector: string): RunReporter {
  const log = logger.child({ connector });
  return {
    onEvent(e) {
      if (e.kind === 'listed') log.info({ event: 'listed', files: e.files, stillBeingWritten: e.settling }, 'source listed');
      else if (e.kind === 'skipped-known') log.info({ event: 'skipped', file: e.file, sha256: e.sha256, processedInRun: e.doneRunId }, 'already processed');
      else if (e.kind === 'container') {
        const { line } = e;
        const fields = { event: 'container', file: line.file, sha256: line.sha256, ok: line.ok, code: line.code, items: line.items };
        if (line.ok) log.info(fields, 'container imported');
        else log.warn(fields, 'container rejected');
      }
    },
    end(result) {
      if ('log' in result) {
        const s = summarize(result.log);
        log.info({ event: 'run', runId: result.log.runId, ok: result.log.failed === 0 && result.log.containers.every((c) => c.ok), ...s }, 'run finished');
      } else log.error({ event: 'run', ok: false, code: result.code, message: result.message }, 'run failed');
    },
  };
}

/** A progress bar on stderr; it redraws at most ten times a second. */
export function barReporter(stream: NodeJS.WriteStream = process.stderr): RunReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{file} |{bar}| {value}/{total} items · {rate}/s · {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 200,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let total = 0;
  let done = 0;
  const t0 = Date.now();
  const payload = (file: string) => ({ file: file.length > 32 ? `…${file.slice(-31)}` : file, rate: Math.round(done / Math.max(0.001, (Date.now() - t0) / 1000)) });
  let current = '';
  return {
    onEvent(e) {
      if (e.kind === 'staged') {
        current = e.file;
        total += e.declaredItems ?? 0;
        if (!started) bar.start(Math.max(total, done), done, payload(current));
        else bar.setTotal(Math.max(total, done));
        started = true;
      } else if (e.kind === 'item-read' && started) {
        done++;
        if (done > total) bar.setTotal(done);
        bar.update(done, payload(current));
      }
    },
    end() {
      if (started) bar.stop();
    },
  };
}
