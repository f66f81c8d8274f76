import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ITEM_CODES } from './errors.js';
import type { ItemResult } from './item.js';
import { readItems } from './read.js';
import { resolveSource } from './source.js';
import { tempEntries } from './test-support/dir-entries.js';

const good = (id: string, extra: Record<string, unknown> = {}) => ({
  id, type: 'chat.message', sentAt: '2026-11-22T14:03:11.120+01:00', from: { name: 'Ana', email: 'ana@corp.example' }, ...extra,
});
const line = (v: unknown) => JSON.stringify(v);

async function readAll(files: Record<string, string | Buffer>, opts: Parameters<typeof readItems>[1] = {}) {
  const c = await tempEntries(files);
  try {
    const stream = readItems(c.entries, opts);
    const results: ItemResult[] = [];
    for await (const r of stream) results.push(r);
    return { results, unused: stream.unused() };
  } finally {
    await c.remove();
  }
}

const failures = (rs: ItemResult[]) => rs.flatMap((r) => (r.ok ? [] : [r.failure]));
const ids = (rs: ItemResult[]) => rs.flatMap((r) => (r.ok ? [r.item.id] : []));

describe('readItems', () => {
  it('skip passes over that many items, counted as they would be yielded (blank lines are none, a bad or long line is one); the rest is read the same', async () => {
    const eml = 'Message-ID: <m1@example>\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\nFrom: Ana <ana@corp.example>\r\nSubject: hi\r\n\r\nbody\r\n';
    const files = {
      'items/a.json': line(good('j1')),
      'items/chat.ndjson': [line(good('n1')), '', '{not json', '  ', line(good('n2')), 'x'.repeat(300), line(good('n3'))].join('\n'),
      'items/m.eml': eml,
      'items/z.json': line(good('j2')),
    };
    const opts = { limits: { maxItemBytes: 200 } };
    const c = await tempEntries(files);
    try {
      const all: ItemResult[] = [];
      for await (const r of readItems(c.entries, opts)) all.push(r);
      assert.equal(all.length, 8, 'j1, n1, the bad line, n2, the long line, n3, the eml, j2');
      for (let skip = 0; skip <= all.length + 1; skip++) {
        const rest: ItemResult[] = [];
        const stream = readItems(c.entries, { ...opts, skip });
        for await (const r of stream) rest.push(r);
        assert.deepEqual(rest, all.slice(skip), `skip ${skip}`);
        if (skip > 0) assert.throws(() => stream.unused(), /not known when items were passed over/);
      }
    } finally {
      await c.remove();
    }
  });

  it('reads .json, .ndjson and .eml entries in manifest order, ndjson lines in line order', async () => {
    const eml = 'Message-ID: <m1@example>\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\nFrom: Ana <ana@corp.example>\r\nSubject: hi\r\n\r\nbody\r\n';
    const { results } = await readAll({
      'items/b/one.json': line(good('j1')),
      'items/chat.ndjson': [good('n1'), good('n2'), good('n3')].map(line).join('\n'),
      'items/mail/x.eml': eml,
    });
    assert.deepEqual(ids(results), ['j1', 'n1', 'n2', 'n3', '<m1@example>']);
    const origins = results.map((r) => (r.ok ? r.origin : undefined));
    assert.deepEqual(origins, [
      { entry: 'items/b/one.json' },
      { entry: 'items/chat.ndjson', line: 1 },
      { entry: 'items/chat.ndjson', line: 2 },
      { entry: 'items/chat.ndjson', line: 3 },
      { entry: 'items/mail/x.eml' },
    ]);
  });

  it('takes "\\r\\n" and "\\n" line endings, skips blank lines and keeps counting them', async () => {
    const { results } = await readAll({
      'items/a.ndjson': `\uFEFF${line(good('a'))}\r\n\r\n   \n${line(good('b'))}\n\n${line(good('c'))}`,
    });
    assert.deepEqual(failures(results), []);
    assert.deepEqual(results.map((r) => (r.ok ? [r.item.id, r.origin.line] : [])), [['a', 1], ['b', 4], ['c', 6]]);
  });

  it('reports each bad item with its entry, line, id and rule while the good ones still come out', async () => {
    const { results } = await readAll({
      'items/mixed.ndjson': [
        line(good('ok-1')),
        '{"id": "broken", "type": ', // bad JSON line
        line({ ...good('x'), id: undefined }), // missing id
        line({ ...good('no-type'), type: undefined }),
        line(good('no-offset', { sentAt: '2026-11-22T14:03:11' })),
        line(good('no-address', { from: { name: 'Ana' } })),
        line(good('no-attachment', { attachments: [{ path: 'attachments/nope.pdf' }] })),
        line(good('ok-2')),
      ].join('\n'),
    });
    assert.deepEqual(ids(results), ['ok-1', 'ok-2']);
    assert.deepEqual(failures(results), [
      { entry: 'items/mixed.ndjson', line: 2, id: undefined, code: 'ITEM_JSON', message: failures(results)[0]?.message },
      { entry: 'items/mixed.ndjson', line: 3, id: undefined, code: 'ITEM_INVALID', message: 'id: is required' },
      { entry: 'items/mixed.ndjson', line: 4, id: 'no-type', code: 'ITEM_INVALID', message: 'type: is required' },
      { entry: 'items/mixed.ndjson', line: 5, id: 'no-offset', code: 'ITEM_INVALID', message: 'sentAt: must be RFC 3339 with an offset' },
      { entry: 'items/mixed.ndjson', line: 6, id: 'no-address', code: 'ITEM_INVALID', message: 'from: must have email or sourceId' },
      {
        entry: 'items/mixed.ndjson', line: 7, id: 'no-attachment', code: 'ITEM_ATTACHMENT_MISSING',
        message: 'attachments[0].path: no entry "attachments/nope.pdf" in the container',
      },
    ]);
    assert.match(failures(results)[0]?.message ?? '', /^line is not valid JSON: /);
    for (const f of failures(results)) assert.ok(Object.hasOwn(ITEM_CODES, f.code), f.code);
  });

  it('reports a .json entry that is not JSON, or not UTF-8, and goes on', async () => {
    const { results } = await readAll({
      'items/bad.json': '{"id": ',
      'items/latin1.json': Buffer.from(`{"id": "caf\xe9"}`, 'latin1'),
      'items/good.json': line(good('g')),
    });
    assert.deepEqual(ids(results), ['g']);
    assert.deepEqual(failures(results).map((f) => [f.entry, f.code, f.line]), [
      ['items/bad.json', 'ITEM_JSON', undefined],
      ['items/latin1.json', 'ITEM_JSON', undefined],
    ]);
    assert.match(failures(results)[1]?.message ?? '', /not valid UTF-8/);
  });

  it('reads a line of several megabytes, and reports one beyond maxItemBytes without stopping', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const { results } = await readAll(
      { 'items/long.ndjson': [line(good('big', { body: { text: big } })), line(good('huge', { body: { text: big + big } })), line(good('after'))].join('\n') },
      { limits: { maxItemBytes: 5 * 1024 * 1024 } },
    );
    assert.deepEqual(ids(results), ['big', 'after']);
    const first = results[0];
    assert.ok(first?.ok && first.item.body?.text === big);
    assert.deepEqual(failures(results).map((f) => [f.line, f.code]), [[2, 'ITEM_TOO_LARGE']]);
  });

  it('fault 3: an item whose properties nest 5,000 deep fails alone with ITEM_TOO_DEEP, its entry and line, and the others are read', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const deepItem = (id: string) => `${line(good(id)).slice(0, -1)},"properties":${deep}}`;
    const { results } = await readAll({
      'items/a.ndjson': [line(good('before')), deepItem('deep-line'), line(good('after'))].join('\n'),
      'items/b.json': deepItem('deep-entry'),
      'items/c.json': `[${'['.repeat(200)}${']'.repeat(200)}]`,
      'items/d.json': line(good('last', { properties: { level: { two: [[['ok']]] } } })),
    });
    assert.deepEqual(ids(results), ['before', 'after', 'last']);
    assert.deepEqual(failures(results).map((f) => [f.entry, f.line, f.code, f.message]), [
      ['items/a.ndjson', 2, 'ITEM_TOO_DEEP', 'properties.a.a.a.a.a…: arrays and objects nested more than 128 deep (maxItemDepth)'],
      ['items/b.json', undefined, 'ITEM_TOO_DEEP', 'properties.a.a.a.a.a…: arrays and objects nested more than 128 deep (maxItemDepth)'],
      ['items/c.json', undefined, 'ITEM_TOO_DEEP', '[0][0][0][0][0][0]…: arrays and objects nested more than 128 deep (maxItemDepth)'],
    ]);
  });

  it('fault 3: maxItemDepth is a limit of its own, an explicit value kept', async () => {
    const { results } = await readAll({ 'items/a.ndjson': [line(good('flat')), line(good('two', { properties: { a: {} } }))].join('\n') }, { limits: { maxItemDepth: 2 } });
    assert.deepEqual(ids(results), ['flat']);
    assert.deepEqual(failures(results).map((f) => [f.line, f.code]), [[2, 'ITEM_TOO_DEEP']]);
  });

  it('fault 8: keeps a "__proto__" key, "constructor", and numbers a double cannot hold, in properties and unknown top-level fields', async () => {
    const text = `${line(good('p')).slice(0, -1)},"__proto__":{"top":1},"n":12345678901234567890123,"properties":{"__proto__":{"x":1},"constructor":"c","big":12345678901234567890123,"z":-0,"e":1e400}}`;
    const { results } = await readAll({ 'items/p.json': text });
    const r = results[0];
    assert.ok(r?.ok);
    const props = r.item.properties;
    assert.equal(Object.getPrototypeOf(props), Object.prototype);
    assert.deepEqual(Object.keys(props), ['__proto__', 'n', 'constructor', 'big', 'z', 'e']);
    assert.deepEqual(props['__proto__'], { x: 1 }, 'the declared property wins over the top-level field of the same name');
    assert.equal(String((props.big as { text: string }).text), '12345678901234567890123');
    assert.equal((props.z as { text: string }).text, '-0');
    assert.equal((props.e as { text: string }).text, '1e400');
  });

  it('fault 3 sibling: a Date header, Message-ID or attachment path of megabytes is quoted in the failure by its first 200 characters, not whole', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const { results } = await readAll({
      'items/a.eml': `Message-ID: <${big}\r\nFrom: ana@corp.example\r\nDate: ${big}\r\n\r\nb`,
      'items/b.json': line(good('b', { attachments: [{ path: big }] })),
    });
    const messages = failures(results).map((f) => f.message);
    const cut = `${'x'.repeat(200)}… (${big.length} characters)`;
    assert.deepEqual(messages, [
      `id: the Message-ID header "<${cut.replace('x', '').replace(`${big.length} characters`, `${big.length + 1} characters`)}" holds no RFC 5322 msg-id; sentAt: the Date header "${cut}" is not an RFC 5322 date-time`,
      `attachments[0].path: no entry "${cut}" in the container`,
    ]);
  });

  it('reads an .eml: id from Message-ID else the entry name, sentAt from Date, people from From/To/Cc/Bcc', async () => {
    const withId =
      'From: =?UTF-8?Q?Ana_R=C3=BAiz?= <ana@corp.example>\r\nTo: Bo <bo@corp.example>, desk@client.example\r\nCc: "Chen, Li" <li@corp.example>\r\n' +
      'Bcc: hidden@corp.example\r\nDate: Sun, 22 Nov 2026 14:03:11 -0500 (EST)\r\nMessage-ID: <abc@host.example>\r\nSubject: =?UTF-8?B?w6nDqMOg?=\r\n\r\nbody';
    const withoutId = 'From: ana@corp.example\nDate: 2 Jan 26 08:00 GMT\n\nbody\n';
    const { results } = await readAll({ 'items/a.eml': withId, 'items/b.eml': withoutId });
    assert.deepEqual(failures(results), []);
    const [a, b] = results.map((r) => (r.ok ? r.item : undefined));
    assert.equal(a?.id, '<abc@host.example>');
    assert.equal(a?.sentAt, '2026-11-22T14:03:11-05:00');
    assert.deepEqual(a?.from, { name: 'Ana Rúiz', email: 'ana@corp.example' });
    assert.deepEqual(a?.participants.map((p) => [p.role, p.email, p.name]), [
      ['to', 'bo@corp.example', 'Bo'], ['to', 'desk@client.example', undefined], ['cc', 'li@corp.example', 'Chen, Li'], ['bcc', 'hidden@corp.example', undefined],
    ]);
    assert.deepEqual(a?.Email, ['ana@corp.example', 'bo@corp.example', 'desk@client.example', 'li@corp.example', 'hidden@corp.example']);
    assert.equal(a?.subject, 'éèà');
    assert.ok(a?.kind === 'eml' && a.hasMessageId && a.lineEnding === '\r\n');
    assert.equal(b?.id, 'items/b.eml');
    assert.equal(b?.sentAt, '2026-01-02T08:00:00+00:00');
    assert.ok(b?.kind === 'eml' && !b.hasMessageId && b.lineEnding === '\n');
  });

  it('reports an .eml without Date or From', async () => {
    const { results } = await readAll({ 'items/x.eml': 'Message-ID: <x@y>\r\nSubject: s\r\n\r\nb', 'items/y.eml': 'From: a@b.example\r\nDate: yesterday\r\n\r\n' });
    assert.deepEqual(failures(results).map((f) => [f.entry, f.id, f.message]), [
      ['items/x.eml', '<x@y>', 'sentAt: the message has no Date header; from: the From header is missing or has no email address'],
      ['items/y.eml', 'items/y.eml', 'sentAt: the Date header "yesterday" is not an RFC 5322 date-time'],
    ]);
  });

  it("takes an .eml's id from its Message-ID in every legal form, normalised as the targets read it", async () => {
    const eml = (messageId: string) => `From: ana@corp.example\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\n${messageId}\r\nSubject: s\r\n\r\nbody\r\n`;
    const { results } = await readAll({
      'items/1.eml': eml('Message-ID: <plain@host.example>'),
      'items/2.eml': eml('Message-ID: no-brackets@host.example'),
      'items/3.eml': eml('Message-ID: <comment@host.example> (added by the gateway)'),
      'items/4.eml': eml('Message-ID:\r\n <folded@host.example>'),
      'items/5.eml': eml('message-ID: <lower-case-name@host.example>'),
      'items/6.eml': eml('Message-ID: <"quoted local"@[192.0.2.1]>'),
      'items/7.eml': eml('Message-ID: < obs . left @ obs . right >'),
    });
    assert.deepEqual(failures(results), []);
    assert.deepEqual(ids(results), [
      '<plain@host.example>', '<no-brackets@host.example>', '<comment@host.example>', '<folded@host.example>',
      '<lower-case-name@host.example>', '<"quoted local"@[192.0.2.1]>', '<obs.left@obs.right>',
    ]);
    assert.ok(results.every((r) => r.ok && r.item.kind === 'eml' && r.item.hasMessageId));
  });

  it('refuses an .eml whose Message-ID field holds no msg-id rather than give it a second one', async () => {
    const { results } = await readAll({
      'items/x.eml': 'Message-ID: <no-at-sign>\r\nFrom: ana@corp.example\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\n\r\nb',
      'items/y.eml': 'Message-ID:\r\nFrom: ana@corp.example\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\n\r\nb',
    });
    assert.deepEqual(ids(results), []);
    assert.deepEqual(failures(results).map((f) => [f.entry, f.id, f.code, f.message]), [
      ['items/x.eml', undefined, 'ITEM_INVALID', 'id: the Message-ID header "<no-at-sign>" holds no RFC 5322 msg-id'],
      ['items/y.eml', undefined, 'ITEM_INVALID', 'id: the Message-ID header "" holds no RFC 5322 msg-id'],
    ]);
  });

  it('reports as unused the entries no item names, xip.json and items excepted', async () => {
    const { unused } = await readAll({
      'xip.json': '{"source": "S"}',
      'items/a.ndjson': [line(good('a', { attachments: [{ path: 'att/used.pdf' }] })), line(good('b', { sentAt: 'bad', attachments: [{ path: 'att/named-by-bad-item.pdf' }] }))].join('\n'),
      'att/used.pdf': 'x',
      'att/named-by-bad-item.pdf': 'x',
      'att/orphan.pdf': 'x',
      'items/notes.txt': 'x',
    });
    assert.deepEqual(unused, ['att/orphan.pdf', 'items/notes.txt']);
  });

  it('says unused() is not known before the end', async () => {
    const c = await tempEntries({ 'items/a.json': line(good('a')) });
    try {
      assert.throws(() => readItems(c.entries).unused(), /only once every item has been read/);
    } finally {
      await c.remove();
    }
  });
});

describe('resolveSource', () => {
  it('prefers the package source, then xip.json, then the connector name', async () => {
    const c = await tempEntries({ 'xip.json': '{"source": "From xip.json", "items": 1}' }, { packageSource: 'From package' });
    const d = await tempEntries({ 'xip.json': '{"source": "From xip.json"}' });
    const e = await tempEntries({ 'xip.json': '{"exportedFrom": "2026-01-01"}' });
    const f = await tempEntries({ 'items/a.json': '{}' });
    try {
      assert.deepEqual(await resolveSource(c.entries, { connectorName: 'conn' }), { source: 'From package', from: 'package', declaredItems: undefined });
      assert.deepEqual(await resolveSource(d.entries, { connectorName: 'conn' }), { source: 'From xip.json', from: 'xip.json', declaredItems: undefined });
      assert.deepEqual(await resolveSource(e.entries, { connectorName: 'conn' }), { source: 'conn', from: 'connector', declaredItems: undefined });
      assert.deepEqual(await resolveSource(f.entries, { connectorName: 'conn' }), { source: 'conn', from: 'connector', declaredItems: undefined });
    } finally {
      await Promise.all([c, d, e, f].map((x) => x.remove()));
    }
  });

  it('refuses an unreadable xip.json rather than change every Message-ID', async () => {
    for (const content of ['{"source": ', '[1]', '{"source": 42}', '{"source": ""}']) {
      const c = await tempEntries({ 'xip.json': content });
      try {
        await assert.rejects(resolveSource(c.entries, { connectorName: 'conn' }), { code: 'XIP_JSON_INVALID' });
      } finally {
        await c.remove();
      }
    }
  });
});
