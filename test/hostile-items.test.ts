// Issue 8, faults 3 and 8, end to end through the installed command: a signed
// container holding items that once stopped everything (properties nested
// 5,000 deep in 10 KB overflowed the stack: `convert` reported IO_ERROR,
// `import` exited 2 with nothing delivered, and the container could never be
// imported) fails those items alone with their code, entry and line; the
// others are written and delivered, their properties unchanged.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { buildContainer, tempDir, testIdentity } from '../src/xip/test-support/container.js';
import { runXip } from './support/cli.js';

const head = (id: string) =>
  `"id":"${id}","type":"chat.message","sentAt":"2026-11-22T14:03:11Z","from":{"email":"ana@corp.example"},"participants":[{"email":"bo@corp.example","role":"to"}]`;
const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
const EXACT = '{"__proto__":{"x":1},"constructor":"c","big":12345678901234567890123,"zero":-0,"pi":0.1000000000000000055511151231257827,"huge":1e400,"2":"two","1":"one"}';
const DATA = {
  'items/day.ndjson': [`{${head('good-1')}}`, `{${head('deep-line')},"properties":${deep}}`, `{${head('exact')},"properties":${EXACT}}`].join('\n') + '\n',
  'items/deep.json': `{${head('deep-entry')},"properties":${deep}}`,
  // A media type name no header line can hold: buildMessage threw, uncoded (IO_ERROR in convert, the whole run in import).
  'items/long-type.json': `{${head('long-type')},"attachments":[{"path":"att/f.bin","contentType":"application/${'x'.repeat(2000)}"}]}`,
  'items/last.json': `{${head('good-2')}}`,
  'att/f.bin': 'x',
};
const EXPECTED_FAILURES = [
  ['ITEM_TOO_DEEP', 'items/day.ndjson', 2],
  ['ITEM_TOO_DEEP', 'items/deep.json', undefined],
  ['ITEM_INVALID', 'items/long-type.json', undefined],
];

let dir: string;
let trust: string;
let container: string;

before(async () => {
  dir = await tempDir('xip-hostile-items-');
  trust = join(dir, 'ca.pem');
  writeFileSync(trust, testIdentity().issued.caCertificatePem);
  container = await buildContainer(join(dir, 'hostile.xip'), { data: DATA });
});

/** Item id → X-XIP-Properties of every message file in `files`, read by mailparser. */
async function byItem(files: string[]): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  for (const file of files) {
    const parsed = await simpleParser(readFileSync(file));
    const header = (name: string) => parsed.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]*:\s*/, '');
    out.set(header('x-xip-item-id') ?? '?', header('x-xip-properties'));
  }
  return out;
}

describe('hostile items (issue 8, faults 3 and 8)', () => {
  it('xip convert: an item nested 5,000 deep fails alone with ITEM_TOO_DEEP (not IO_ERROR), its entry and line; the others are written, properties exact', async () => {
    const out = join(dir, 'converted');
    const r = await runXip(['convert', container, '--trust', trust, '-o', out, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const o = JSON.parse(r.stdout) as { items: { id: string; file: string }[]; failed: { code: string; entry: string; line?: number }[] };
    assert.deepEqual(o.failed.map((f) => [f.code, f.entry, f.line]), EXPECTED_FAILURES);
    assert.deepEqual(o.items.map((i) => i.id), ['good-1', 'exact', 'good-2']);
    const written = await byItem(readdirSync(out).map((f) => join(out, f)));
    assert.deepEqual([...written.keys()].sort(), ['exact', 'good-1', 'good-2']);
    assert.equal(written.get('exact'), EXACT);
  });

  it('xip import into Maildir: the deep items fail alone with their code, entry and line; the others are delivered to every mailbox, properties exact', async () => {
    const root = join(dir, 'mail');
    const directory = join(dir, 'users.csv');
    writeFileSync(directory, 'email,name,aliases,litigationHold\nana@corp.example,Ana,,false\nbo@corp.example,Bo,,false\n');
    const r = await runXip(['import', container, '--trust', trust, '--directory', directory, '--to', `maildir:${root}`, '--state', join(dir, 'state.db'), '--json']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const log = JSON.parse(r.stdout) as { containers: { ok: boolean }[]; imported: number; failures: { code: string; entry?: string; line?: number }[] };
    assert.deepEqual(log.containers.map((c) => c.ok), [true]);
    assert.deepEqual(log.failures.map((f) => [f.code, f.entry, f.line]), EXPECTED_FAILURES);
    for (const mailbox of ['ana@corp.example', 'bo@corp.example']) {
      const cur = join(root, mailbox, '.INBOX.XIP', 'cur');
      const delivered = await byItem(readdirSync(cur).map((f) => join(cur, f)));
      assert.deepEqual([...delivered.keys()].sort(), ['exact', 'good-1', 'good-2'], mailbox);
      assert.equal(delivered.get('exact'), EXACT, mailbox);
    }
  });
});
