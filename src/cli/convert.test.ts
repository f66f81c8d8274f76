// xip convert as a user runs it: verify, then one <32 hex>.eml per item; bad
// items reported with entry, line and id while the good ones are written.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { runXip } from '../../test/support/cli.js';
import { messageIdFor } from '../message/message-id.js';
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

/** The README's promise: `<first 32 hex digits of SHA-256 of the Message-ID>.eml`. */
const fileOf = (messageId: string): string => `${createHash('sha256').update(messageId, 'utf8').digest('hex').slice(0, 32)}.eml`;

/** An .eml item with its own Message-ID header, written as given. */
const eml = (messageIdField: string, body = 'hello'): string =>
  `Message-ID: ${messageIdField}\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\nFrom: Ana Ruiz <ana@corp.example>\r\nTo: bo@corp.example\r\nSubject: note\r\n\r\n${body}\r\n`;

interface ConvertJson {
  ok: boolean;
  items: { id: string; messageId: string; file: string; entry: string }[];
  failed: { entry: string; id?: string; code: string; message: string }[];
}

async function convertJson(name: string, files: Record<string, Buffer | string>, out: string): Promise<{ code: number; o: ConvertJson }> {
  return convertFile(await buildContainer(join(dir, `${name}.xip`), { data: files }), out);
}

async function convertFile(file: string, out: string): Promise<{ code: number; o: ConvertJson }> {
  const r = await runXip(['convert', file, '--trust', trust, '-o', out, '--json']);
  assert.ok(r.stdout.startsWith('{'), `convert printed JSON: ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`);
  return { code: r.code, o: JSON.parse(r.stdout) as ConvertJson };
}

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
      assert.equal(item.file, fileOf(item.messageId));
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

  it('a path-traversal Message-ID writes nothing outside -o: the file is named by a hash', async () => {
    // Valid msg-ids (a quoted local part, a domain literal) whose first 32
    // characters climb out of the destination: the old naming wrote them
    // into <root>/deep/outside/.
    const root = join(dir, 'traversal');
    const out = join(root, 'deep', 'out');
    mkdirSync(join(root, 'deep', 'outside'), { recursive: true });
    const { code, o } = await convertJson('traversal', { 'items/a.eml': eml('<"../../../outside/x"@evil>'), 'items/b.eml': eml('<x@[../../../outside/y]>') }, out);
    assert.equal(code, 0, JSON.stringify(o));
    assert.deepEqual(o.items.map((i) => i.messageId), ['<"../../../outside/x"@evil>', '<x@[../../../outside/y]>']);
    assert.deepEqual(o.items.map((i) => i.file), o.items.map((i) => fileOf(i.messageId)));
    const everything = readdirSync(root, { recursive: true }).map(String).sort();
    assert.deepEqual(everything, ['deep', join('deep', 'out'), join('deep', 'outside'), ...o.items.map((i) => join('deep', 'out', i.file))].sort());
  });

  it('"abc@x" and a Message-ID of over 32 characters get <32 hex>.eml names', async () => {
    const long = '<a-message-id-of-well-over-thirty-two-characters@mail.example.com>';
    const out = join(dir, 'hex-out');
    const { code, o } = await convertJson('hex', { 'items/short.eml': eml('abc@x'), 'items/long.eml': eml(long) }, out);
    assert.equal(code, 0, JSON.stringify(o));
    assert.equal(o.items.length, 2);
    for (const item of o.items) {
      assert.match(item.file, /^[0-9a-f]{32}\.eml$/);
      assert.equal(item.file, fileOf(item.messageId));
    }
    assert.deepEqual(readdirSync(out).sort(), o.items.map((i) => i.file).sort());
    assert.equal((await simpleParser(readFileSync(join(out, fileOf(long))))).messageId, long);
  });

  it('two Message-IDs sharing their first 32 characters give two files, each its own message', async () => {
    const a = '<shared-prefix-0123456789abcdef0123-A@x>';
    const b = '<shared-prefix-0123456789abcdef0123-B@x>';
    assert.equal(a.slice(0, 33), b.slice(0, 33));
    const out = join(dir, 'prefix-out');
    const { code, o } = await convertJson('prefix', { 'items/a.eml': eml(a, 'first'), 'items/b.eml': eml(b, 'second') }, out);
    assert.equal(code, 0, JSON.stringify(o));
    assert.deepEqual(readdirSync(out).sort(), [fileOf(a), fileOf(b)].sort());
    assert.equal((await simpleParser(readFileSync(join(out, fileOf(a))))).text?.trim(), 'first');
    assert.equal((await simpleParser(readFileSync(join(out, fileOf(b))))).text?.trim(), 'second');
  });

  it('an item whose file an earlier item of the container took fails with EXTRACT_TARGET_EXISTS; the first is kept', async () => {
    // The .eml carries the very Message-ID the JSON item is given (xip-items.md
    // §3, source "test"): one name for two different items.
    const taken = messageIdFor('test', 'p-1');
    const out = join(dir, 'taken-out');
    const { code, o } = await convertJson('taken', { 'items/post.json': data['items/post.json'], 'items/z.eml': eml(taken, 'the second') }, out);
    assert.equal(code, 1);
    assert.deepEqual(o.items.map((i) => [i.id, i.file]), [['p-1', fileOf(taken)]]);
    assert.deepEqual(o.failed.map((f) => [f.entry, f.id, f.code]), [['items/z.eml', taken, 'EXTRACT_TARGET_EXISTS']]);
    assert.match(o.failed[0]!.message, /items\/post\.json/);
    assert.deepEqual(readdirSync(out), [fileOf(taken)]);
    assert.equal((await simpleParser(readFileSync(join(out, fileOf(taken))))).headers.get('x-xip-item-id'), 'p-1');
  });

  it('a file already in -o is never replaced: EXTRACT_TARGET_EXISTS, exit 1, the file as it was', async () => {
    const id = '<kept@corp.example>';
    const out = join(dir, 'existing-out');
    mkdirSync(out);
    writeFileSync(join(out, fileOf(id)), 'mine');
    const { code, o } = await convertJson('existing', { 'items/k.eml': eml(id), 'items/n.eml': eml('<new@corp.example>') }, out);
    assert.equal(code, 1);
    assert.deepEqual(o.failed.map((f) => [f.entry, f.code]), [['items/k.eml', 'EXTRACT_TARGET_EXISTS']]);
    assert.deepEqual(o.items.map((i) => i.messageId), ['<new@corp.example>']);
    assert.equal(readFileSync(join(out, fileOf(id)), 'utf8'), 'mine');
    assert.deepEqual(readdirSync(out).sort(), [fileOf(id), fileOf('<new@corp.example>')].sort(), 'no temporary file left');
  });

  it('many items of mixed sizes: reported in item order, the same names and bytes on every run', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ ...good, id: `m-${i}`, attachments: i % 7 === 0 ? [{ path: 'attachments/big.bin' }] : [] }));
    const files = { 'items/many.ndjson': lines.join('\n'), 'attachments/big.bin': randomBytes(3 << 20) /* incompressible: past the ratio limit otherwise */, 'attachments/q.txt': 'quote' };
    const file = await buildContainer(join(dir, 'many.xip'), { data: files });
    const a = await convertFile(file, join(dir, 'many-a'));
    const b = await convertFile(file, join(dir, 'many-b'));
    assert.equal(a.code, 0, JSON.stringify(a.o.failed));
    assert.deepEqual(a.o.items.map((i) => i.id), lines.map((_, i) => `m-${i}`));
    assert.deepEqual(b.o.items, a.o.items);
    const names = readdirSync(join(dir, 'many-a')).sort();
    assert.deepEqual(names, a.o.items.map((i) => i.file).sort());
    assert.deepEqual(readdirSync(join(dir, 'many-b')).sort(), names);
    for (const name of names) assert.ok(readFileSync(join(dir, 'many-a', name)).equals(readFileSync(join(dir, 'many-b', name))), `${name} is the same bytes in both runs`);
  });
});
