// xip convert as a user runs it: verify, then one <32 hex>.eml per item; bad
// items reported with entry, line and id while the good ones are written.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { runXip } from '../../test/support/cli.js';
import { buildContainer, tempDir, testIdentity } from '../xip/test-support/container.js';

let dir: string;
let trust: string;
const good = {
  id: 'c-1',
  type: 'chat.message',
  sentAt: '2026-11-22T14:03:11.120+01:00',
  from: { name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-991' },
  participants: [{ name: 'Bo Chen', email: 'bo@corp.example', role: 'to' }],
  conversation: { id: 'room-42', title: 'FX desk' },
  body: { text: 'Can you quote 5m?' },
  attachments: [{ path: 'attachments/q.txt' }],
};
const data = {
  'items/chat.ndjson': [JSON.stringify(good), '{"id":"c-2","type":"chat.message","sentAt":"2026-11-22T14:05:00","from":{"email":"bo@corp.example"}}', '{not json', JSON.stringify({ ...good, id: 'c-4', attachments: [] })].join('\n'),
  'items/post.json': JSON.stringify({ id: 'p-1', type: 'post', sentAt: '2026-11-22T09:00:00Z', from: { sourceId: 'u-7', name: 'Zoë' }, body: { html: '<b>hello</b>' } }),
  'attachments/q.txt': 'quote',
};

before(async () => {
  dir = await tempDir('xip-convert-');
  trust = join(dir, 'ca.pem');
  writeFileSync(trust, testIdentity().issued.caCertificatePem);
});

describe('xip convert', () => {
  it('writes the good items as messages and reports the bad ones with entry, line and id (exit 1)', async () => {
    const file = await buildContainer(join(dir, 'mixed.xip'), { data, package: { version: '1', source: 'conv-test', created: '2026-11-22T00:00:00Z', items: 5 } });
    const out = join(dir, 'out');
    const r = await runXip(['convert', file, '--trust', trust, '-o', out, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.ok, false);
    assert.deepEqual(o.items.map((i: { id: string }) => i.id), ['c-1', 'c-4', 'p-1']);
    assert.deepEqual(
      o.failed.map((f: { entry: string; line?: number; id?: string; code: string }) => [f.entry, f.line, f.id, f.code]),
      [['items/chat.ndjson', 2, 'c-2', 'ITEM_INVALID'], ['items/chat.ndjson', 3, undefined, 'ITEM_JSON']],
    );
    assert.match(o.failed[0].message, /sentAt/);
    assert.deepEqual(readdirSync(out).sort(), o.items.map((i: { file: string }) => i.file).sort());
    for (const item of o.items) {
      assert.equal(item.file, `${item.messageId.slice(1, 33)}.eml`);
      assert.match(item.messageId, /^<[0-9a-f]{32}@xip\.invalid>$/);
    }
    const first = await simpleParser(readFileSync(join(out, o.items[0].file)));
    assert.equal(first.messageId, o.items[0].messageId);
    assert.equal(first.from?.value[0]?.address, 'ana@corp.example');
    assert.equal(first.subject, 'chat.message in FX desk');
    assert.equal(first.text?.trim(), 'Can you quote 5m?');
    assert.equal(first.attachments[0]?.filename, 'q.txt');
    assert.equal(first.attachments[0]?.content.toString(), 'quote');
    assert.equal(first.headers.get('x-xip-source'), 'conv-test');
    assert.equal(first.headers.get('x-xip-item-id'), 'c-1');
  });

  it('exit 0 when every item converted; the same item always gets the same file', async () => {
    const clean = { 'items/post.json': data['items/post.json'] };
    const a = await runXip(['convert', await buildContainer(join(dir, 'clean.xip'), { data: clean }), '--trust', trust, '-o', join(dir, 'clean-out')]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.match(a.stdout, /^converted 1 item into .*; 0 failed/);
    const b = await runXip(['convert', join(dir, 'clean.xip'), '--trust', trust, '-o', join(dir, 'clean-out-2')]);
    assert.equal(b.code, 0);
    const [fa] = readdirSync(join(dir, 'clean-out'));
    assert.deepEqual(readdirSync(join(dir, 'clean-out-2')), [fa]);
    assert.deepEqual(readFileSync(join(dir, 'clean-out', fa!)), readFileSync(join(dir, 'clean-out-2', fa!)));
  });

  it('exit 1 and nothing written for a rejected container', async () => {
    const file = await buildContainer(join(dir, 'tampered.xip'), { data, alterData: { 'attachments/q.txt': 'quotf' } });
    const out = join(dir, 'rejected-out');
    const r = await runXip(['convert', file, '--trust', trust, '-o', out, '--json']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).code, 'DIGEST_MISMATCH');
    assert.throws(() => readdirSync(out));
  });

  it('exit 2 without -o', async () => {
    const r = await runXip(['convert', join(dir, 'clean.xip'), '--trust', trust]);
    assert.equal(r.code, 2);
  });
});
