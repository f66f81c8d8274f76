import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { barReporter, logReporter } from './run-reporter.js';

describe('what a run shows while it goes', () => {
  it('on a terminal: a bar with items done of the items declared, the rate and the time left', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    let text = '';
    tty.on('data', (d: Buffer) => (text += d.toString()));
    const bar = barReporter(tty as unknown as NodeJS.WriteStream);
    bar.onEvent({ kind: 'staged', file: 'day-1.xip', sha256: 'ab', declaredItems: 4 });
    for (let i = 0; i < 3; i++) bar.onEvent({ kind: 'item-read' });
    await new Promise((r) => setTimeout(r, 150));
    bar.onEvent({ kind: 'item-read' });
    bar.end({ code: 'X', message: '' });
    assert.match(text, /day-1\.xip \|.*\| \d\/4 items · \d+\/s · .* left/);
  });

  it('otherwise: one JSON line per container and per run, with counts and codes only', () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) });
    const reporter = logReporter(pino(sink), 'chat');
    reporter.onEvent({ kind: 'item-read' });
    reporter.onEvent({ kind: 'container', line: { file: 'bad.xip', sha256: 'cd', ok: false, code: 'DIGEST_MISMATCH', message: 'altered' } });
    reporter.end({ code: 'SOURCE_AUTH_FAILED', message: 'refused' });
    assert.deepEqual(
      lines.map((l) => [l.connector, l.event, l.code]),
      [
        ['chat', 'container', 'DIGEST_MISMATCH'],
        ['chat', 'run', 'SOURCE_AUTH_FAILED'],
      ],
    );
  });
});
