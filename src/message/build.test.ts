// Every message is parsed back with mailparser (an independent reader) and
// compared with its item field by field (xip-items.md §3).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { parseRfc3339, formatRfc5322, toDate } from '../items/dates.js';
import type { Item, ItemResult, Party } from '../items/item.js';
import { readItems } from '../items/read.js';
import { tempEntries, type TempContainer } from '../items/test-support/dir-entries.js';
import { createMessageContext } from './context.js';
import { buildMessage, subjectOf, type MessageSource } from './build.js';

const SOURCE = 'Sÿmphony Export (EMEA)';
const SIGNER = { subject: 'CN=Źródło Test,O=Exämple', sha256: 'cd'.repeat(32) };

interface Converted {
  readonly read: Extract<ItemResult, { ok: true }>;
  readonly message: MessageSource;
  readonly raw: Buffer;
  readonly parsed: ParsedMail;
}

async function convert(files: Record<string, string | Buffer>, source = SOURCE): Promise<{ c: TempContainer; out: Converted[]; failures: unknown[] }> {
  const c = await tempEntries(files, { signer: SIGNER });
  const ctx = createMessageContext(c.entries, source);
  const out: Converted[] = [];
  const failures: unknown[] = [];
  for await (const read of readItems(c.entries)) {
    if (!read.ok) {
      failures.push(read.failure);
      continue;
    }
    const message = await buildMessage(read, ctx);
    const raw = await buffer(message.open());
    out.push({ read, message, raw, parsed: await simpleParser(raw) });
  }
  return { c, out, failures };
}

/** Decodes header text with mailparser's own RFC 2047 decoder (it leaves X- headers undecoded). */
async function decoded(value: string): Promise<string> {
  return (await simpleParser(Buffer.from(`Subject: ${value}\r\n\r\n`, 'utf8'))).subject ?? '';
}

/** Unfolded header fields of the top-level header block, in order. */
function rawHeaders(raw: Buffer): [string, string][] {
  const end = raw.indexOf('\r\n\r\n');
  const text = raw.subarray(0, end).toString('utf8').replace(/\r\n(?=[ \t])/g, '');
  return text.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]);
}
const rawHeader = (raw: Buffer, name: string): string | undefined => rawHeaders(raw).find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];

function assertLines(raw: Buffer): void {
  let start = 0;
  for (let i = raw.indexOf(0x0a); i >= 0; i = raw.indexOf(0x0a, start)) {
    assert.equal(raw[i - 1], 0x0d, `bare LF at ${i}`);
    assert.ok(i - 1 - start <= 998, `a line of ${i - 1 - start} octets at ${start}`);
    start = i + 1;
  }
  assert.ok(raw.length - start <= 998);
  assert.equal(raw.subarray(0, raw.length).includes('\r\r'), false);
}

const addresses = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a.flatMap((x) => x.value) : (a?.value ?? []));
const nl = (s: string) => s.replace(/\r\n|\r/g, '\n');

function expectedAddress(p: Party, source: string): string | undefined {
  if (p.email) return p.email;
  if (!p.sourceId) return undefined;
  // addresses.ts: the sourceId itself within 64 octets, else "id-" and 32 hex digits of its SHA-256.
  const local = Buffer.byteLength(p.sourceId) <= 64 ? p.sourceId : `id-${createHash('sha256').update(p.sourceId).digest('hex').slice(0, 32)}`;
  return `${local}@${source.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}.invalid`;
  return undefined;
}

async function assertMatches(conv: Converted, c: TempContainer, source = SOURCE): Promise<void> {
  const { raw, parsed, message } = conv;
  const { item, origin } = conv.read;
  assert.equal(item.kind, 'json');
  assertLines(raw);
  assert.equal(message.size, raw.length, 'size === actual bytes');

  const digest = createHash('sha256').update(`${source}\0${item.id}`).digest('hex').slice(0, 32);
  assert.equal(message.messageId, `<${digest}@xip.invalid>`);
  assert.equal(parsed.messageId, message.messageId);
  const sentAt = parseRfc3339(item.sentAt)!;
  assert.equal(rawHeader(raw, 'Date'), formatRfc5322(sentAt), 'Date keeps the offset');
  assert.equal(parsed.date?.getTime(), Math.floor(toDate(sentAt).getTime() / 1000) * 1000);
  assert.equal(message.sentAt.getTime(), toDate(sentAt).getTime());
  assert.equal(message.itemId, item.id);

  const party = (p: Party) => ({ address: expectedAddress(p, source), name: p.name ?? '' });
  assert.deepEqual(addresses(parsed.from), [party(item.from)]);
  const people = (roles: string[]) =>
    item.participants.filter((p) => roles.includes(p.role)).flatMap((p): object[] => {
      const address = expectedAddress(p, source);
      if (address) return [party(p)];
      return p.name ? [{ name: p.name, group: [] }] : [];
    });
  assert.deepEqual(addresses(parsed.to), people(['to', 'member']));
  assert.deepEqual(addresses(parsed.cc), people(['cc']));
  for (const p of item.participants.filter((x) => x.role === 'bcc')) {
    if (p.email) assert.equal(raw.includes(p.email), false, 'bcc is not written');
  }
  assert.equal(parsed.subject, subjectOf(item));

  if (item.body?.text !== undefined) assert.equal(parsed.text ?? '', nl(item.body.text));
  if (item.body?.html !== undefined) assert.equal(parsed.html || '', nl(item.body.html));
  if (!item.body && item.attachments.length === 0) assert.equal(parsed.text ?? '', '');
  assert.equal(parsed.attachments.length, item.attachments.length);
  for (const [i, a] of item.attachments.entries()) {
    const got = parsed.attachments[i]!;
    assert.equal(got.filename, a.name);
    assert.equal(got.contentType, a.contentType.split(';')[0]);
    assert.ok(got.content.equals(await readFile(join(c.dir, ...a.path.split('/')))), `attachment ${a.path} content`);
  }

  const entry = c.entries.entries.find((e) => e.name === origin.entry)!;
  const x = async (name: string) => decoded(rawHeader(raw, name) ?? '');
  assert.equal(await x('X-XIP-Source'), source);
  assert.equal(await x('X-XIP-Item-Id'), item.id);
  assert.equal(await x('X-XIP-Item-Type'), item.type);
  assert.equal(await x('X-XIP-Container'), c.entries.sha256);
  assert.equal(await x('X-XIP-Signer'), `${SIGNER.subject}; sha256=${SIGNER.sha256}`);
  assert.equal(await x('X-XIP-Entry'), origin.line === undefined ? origin.entry : `${origin.entry}; line=${origin.line}`);
  assert.equal(await x('X-XIP-Entry-SHA256'), entry.sha256);
  if (Object.keys(item.properties).length > 0) assert.deepEqual(JSON.parse(await x('X-XIP-Properties')), item.properties);
  else assert.equal(rawHeader(raw, 'X-XIP-Properties'), undefined);
}

const sentAt = '2026-11-22T14:03:11.120+01:00';
const nd = (...items: object[]) => items.map((i) => JSON.stringify(i)).join('\n');

async function roundTrip(files: Record<string, string | Buffer>, expectedCount: number, source = SOURCE): Promise<Converted[]> {
  const { c, out, failures } = await convert(files, source);
  try {
    assert.deepEqual(failures, []);
    assert.equal(out.length, expectedCount);
    for (const conv of out) await assertMatches(conv, c, source);
    return out;
  } finally {
    await c.remove();
  }
}

describe('buildMessage: JSON items parse back to the same fields', () => {
  it('the example item of §2', async () => {
    await roundTrip({
      'items/2026/chat.ndjson': nd({
        id: 'sym-7781-000042', type: 'chat.message', sentAt,
        from: { name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-991' },
        participants: [
          { name: 'Bo Chen', email: 'bo@corp.example', sourceId: 'u-104', role: 'to' },
          { name: 'Client Desk', email: 'desk@client.example', role: 'cc' },
          { name: 'Hidden', email: 'hidden@corp.example', role: 'bcc' },
        ],
        Email: ['ana@corp.example', 'bo@corp.example', 'desk@client.example'],
        conversation: { id: 'room-42', title: 'FX desk' },
        subject: 'EUR/CHF quote',
        body: { text: 'Can you quote 5m?', html: '<p>Can you quote 5m?</p>' },
        attachments: [{ path: 'attachments/000042/quote.pdf', name: 'quote.pdf', contentType: 'application/pdf' }],
        properties: { platform: 'Symphony', deskId: 'FX-3' },
      }),
      'attachments/000042/quote.pdf': Buffer.from('%PDF-1.4 not really\n'),
    }, 1, 'Symphony');
  });

  it('non-ASCII in every field, file name, entry name, source and signer', async () => {
    await roundTrip({
      'items/ünïcødé/чат.ndjson': nd({
        id: 'идентификатор-٤٢-😀', type: 'ベンダー.メッセージ', sentAt: '2026-03-01T09:15:00-03:30',
        from: { name: 'Zoë Ñúñez 😀', email: 'zoë@bücher.example', sourceId: 'ü-991' },
        participants: [
          { name: '陈波', email: 'bo@corp.example', role: 'to' },
          { name: 'Dés "Quoted", Ünit', email: 'desk@client.example', role: 'cc' },
          { name: 'Ольга', sourceId: 'ольга-7', role: 'member' },
          { name: 'Ålen', sourceId: 'u-8', role: 'member' },
          { name: 'Nur ein Name' },
        ],
        conversation: { id: 'räum-42', title: 'Börse — FX' },
        subject: 'Angebot für EUR/CHF — 5 Mio. ✓ =?utf-8?q?not-a-word?=',
        body: { text: 'Grüße,\nkönnen Sie 5m quotieren? 💶\r\n— Ana', html: '<p>Grüße — <b>Ana</b> 💶</p>' },
        attachments: [
          { path: 'anhänge/angebot.pdf', name: 'Angebot Ü € 2026 — «final».pdf', contentType: 'application/pdf' },
          { path: 'anhänge/写真.jpg' },
        ],
        properties: { platform: 'Sÿmphony', 'schlüssel': ['wert', 'ß', 1] },
        'unbekannt': 'Größe',
      }),
      'anhänge/angebot.pdf': Buffer.from('%PDF Ü'),
      'anhänge/写真.jpg': Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0x02]),
    }, 1);
  });

  it('lines of thousands of characters in every field: no line of the message exceeds 998 octets', async () => {
    const long = (unit: string, n: number) => unit.repeat(n);
    const [conv] = await roundTrip({
      'items/long.json': JSON.stringify({
        id: long('i', 3000), type: `x.${long('t', 2000)}`, sentAt,
        from: { name: long('Ä', 1500), email: 'ana@corp.example' },
        participants: [{ name: long('word ', 800), email: 'bo@corp.example' }, { name: long('n', 2000), sourceId: long('s', 300) }],
        conversation: { title: long('T', 4000) },
        subject: `${long('S', 5000)} ${long('ü', 3000)} ${long('word ', 1000)}`,
        body: { text: `${long('x', 20000)}\n${long('ä', 7000)}\n${long('a b ', 5000)}`, html: `<p>${long('h', 30000)}</p>` },
        attachments: [{ path: 'a/file.bin', name: `${long('N', 400)}.bin` }],
        properties: { p: long('v', 5000), q: long('é', 3000) },
      }),
      'a/file.bin': Buffer.alloc(10_000, 7),
    }, 1);
    assert.ok(conv!.raw.length > 100_000);
  });

  it('each optional field missing', async () => {
    const outs = await roundTrip({
      'items/minimal.ndjson': nd(
        { id: 'm1', type: 'post', sentAt: '2026-01-01T00:00:00Z', from: { sourceId: 'u-1' } },
        { id: 'm2', type: 'comment', sentAt, from: { email: 'a@corp.example' }, body: { text: 'only text' } },
        { id: 'm3', type: 'call', sentAt, from: { name: 'Ana', sourceId: 'u-1' }, body: { html: '<i>only html</i>' } },
        { id: 'm4', type: 'meeting', sentAt, from: { email: 'a@corp.example' }, conversation: { id: 'c' }, participants: [{ email: 'b@corp.example' }] },
        { id: 'm5', type: 'document', sentAt, from: { email: 'a@corp.example' }, conversation: { title: 'Room' }, attachments: [{ path: 'f/doc.txt' }] },
        { id: 'm6', type: 'message', sentAt, from: { email: 'a@corp.example' }, participants: [{ role: 'cc', sourceId: 'c-1' }], attachments: [{ path: 'f/empty.dat' }, { path: 'f/doc.txt', name: 'again.txt', contentType: 'text/plain; charset=utf-8' }] },
      ),
      'f/doc.txt': 'hello\n',
      'f/empty.dat': '',
    }, 6, 'Simple');
    assert.deepEqual(outs.map((o) => o.parsed.subject), ['post from u-1', 'comment from a@corp.example', 'call from Ana', 'meeting from a@corp.example', 'document in Room', 'message from a@corp.example']);
    assert.deepEqual(addresses(outs[0]!.parsed.from), [{ address: 'u-1@simple.invalid', name: '' }]);
  });

  it('a body that holds the multipart boundary cannot break out of its part', async () => {
    const digest = createHash('sha256').update(`${SOURCE}\0evil`).digest('hex').slice(0, 32);
    const text = `before\r\n--=_xip_mixed_${digest}\r\nContent-Type: text/plain\r\n\r\ninjected\r\n--=_xip_mixed_${digest}--\r\nafter`;
    await roundTrip({
      'items/e.json': JSON.stringify({ id: 'evil', type: 'post', sentAt, from: { email: 'a@corp.example' }, body: { text }, attachments: [{ path: 'x.txt' }] }),
      'x.txt': 'x',
    }, 1);
  });
});

describe('buildMessage: size and determinism', () => {
  it('announces the exact size, and gives the same bytes on every open() and every build, for many shapes', async () => {
    const shapes: object[] = [];
    const bodies = [undefined, { text: '' }, { text: 'a' }, { html: '<p/>' }, { text: 'ü\n'.repeat(50), html: '<p>ü</p>' }, { text: 'trailing space \nand tab\t' }, { text: '\u{1F600}'.repeat(100) }];
    const attachmentSets = [[], ['s/0'], ['s/1'], ['s/2'], ['s/3'], ['s/56'], ['s/57'], ['s/58'], ['s/5000'], ['s/0', 's/1', 's/57', 's/5000']];
    let n = 0;
    for (const body of bodies) {
      for (const set of attachmentSets) {
        shapes.push({ id: `shape-${n++}`, type: 'post', sentAt, from: { email: 'a@corp.example' }, ...(body ? { body } : {}), attachments: set.map((path) => ({ path })) });
      }
    }
    const files: Record<string, string | Buffer> = { 'items/shapes.ndjson': nd(...shapes) };
    for (const size of [0, 1, 2, 3, 56, 57, 58, 5000]) files[`s/${size}`] = Buffer.alloc(size, size % 251);
    const { c, out, failures } = await convert(files);
    try {
      assert.deepEqual(failures, []);
      assert.equal(out.length, shapes.length);
      const ctx = createMessageContext(c.entries, SOURCE);
      for (const conv of out) {
        assert.equal(conv.message.size, conv.raw.length, conv.read.item.id);
        assert.ok((await buffer(conv.message.open())).equals(conv.raw), 'second open()');
        const again = await buildMessage(conv.read, ctx);
        assert.ok((await buffer(again.open())).equals(conv.raw), 'second build');
        await assertMatches(conv, c);
      }
    } finally {
      await c.remove();
    }
  });

  it('fails the stream, never the size, when an entry yields fewer or more bytes than declared', async () => {
    const c = await tempEntries({ 'items/a.json': JSON.stringify({ id: 'a', type: 'post', sentAt, from: { email: 'a@corp.example' }, attachments: [{ path: 'f.bin' }] }), 'f.bin': Buffer.alloc(1000) });
    try {
      for (const lie of [-1, +1]) {
        // An in-process fake of a faulty container reader: real files cannot be made to disagree with their own size.
        const faulty = { ...c.entries, entries: c.entries.entries.map((e) => (e.name === 'f.bin' ? { ...e, size: e.size + lie } : e)), openEntry: c.entries.openEntry };
        const ctx = createMessageContext(faulty, SOURCE);
        const items: Item[] = [];
        for await (const r of readItems(faulty)) if (r.ok) items.push(r.item);
        const m = await buildMessage({ item: items[0]!, origin: { entry: 'items/a.json' } }, ctx);
        await assert.rejects(buffer(m.open()), { code: 'ATTACHMENT_SIZE_MISMATCH' });
      }
    } finally {
      await c.remove();
    }
  });
});

describe('buildMessage: .eml items', () => {
  const withId = 'Received: from x\r\nMessage-ID: <orig@host.example>\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\nFrom: Ana <ana@corp.example>\r\nTo: bo@corp.example\r\nSubject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n  trailing  \r\n';
  const withoutId = 'From: ana@corp.example\nDate: Sun, 22 Nov 2026 14:03:11 +0100\nSubject: lf only\n\nbody\nwith LF\n';

  it('keeps headers and body byte for byte below the added headers; adds Message-ID only when missing', async () => {
    const { c, out, failures } = await convert({ 'items/mail/a.eml': withId, 'items/mail/b.eml': withoutId });
    try {
      assert.deepEqual(failures, []);
      const [a, b] = out;
      for (const [conv, original] of [[a!, withId], [b!, withoutId]] as const) {
        const bytes = Buffer.from(original, 'utf8');
        assert.equal(conv.message.size, conv.raw.length);
        assert.ok(conv.raw.subarray(conv.raw.length - bytes.length).equals(bytes), 'the original bytes follow unchanged');
        const added = conv.raw.subarray(0, conv.raw.length - bytes.length).toString('utf8');
        assert.match(added, /^X-XIP-Source: /);
        assert.equal(await decoded(/X-XIP-Entry: (.*)/.exec(added)![1]!.trim()), conv.read.origin.entry);
      }
      assert.equal(a!.message.messageId, '<orig@host.example>');
      assert.equal(a!.parsed.messageId, '<orig@host.example>');
      assert.doesNotMatch(a!.raw.subarray(0, a!.raw.length - withId.length).toString(), /Message-ID/);
      assert.equal(a!.parsed.subject, 'grüße');
      assert.equal(a!.parsed.text, 'Grüße\n  trailing  \n');

      const digest = createHash('sha256').update(`${SOURCE}\0items/mail/b.eml`).digest('hex').slice(0, 32);
      assert.equal(b!.message.messageId, `<${digest}@xip.invalid>`);
      assert.equal(b!.parsed.messageId, b!.message.messageId);
      assert.equal(b!.raw.includes('\r'), false, 'headers added to an LF message use LF');
      assert.equal(b!.message.sentAt.toISOString(), '2026-11-22T13:03:11.000Z');
    } finally {
      await c.remove();
    }
  });

  it("gives the message its own Message-ID normalised, whatever the header's form, and keeps the header as written", async () => {
    const forms: [string, string][] = [
      ['Message-ID: bare@host.example', '<bare@host.example>'],
      ['Message-ID: <comment@host.example> (gateway)', '<comment@host.example>'],
      ['Message-ID:\r\n\t<folded@host.example>', '<folded@host.example>'],
      ['MESSAGE-ID: <upper@host.example>', '<upper@host.example>'],
      ['Message-ID: <"quoted"@[192.0.2.1]>', '<"quoted"@[192.0.2.1]>'],
    ];
    const files = Object.fromEntries(
      forms.map(([field], i) => [`items/${i}.eml`, `${field}\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\nFrom: ana@corp.example\r\n\r\nbody\r\n`]),
    );
    const { c, out, failures } = await convert(files);
    try {
      assert.deepEqual(failures, []);
      assert.deepEqual(out.map((o) => o.message.messageId), forms.map(([, id]) => id));
      out.forEach((o, i) => {
        const head = o.raw.subarray(0, o.raw.indexOf('\r\n\r\n') + 2).toString('utf8');
        assert.equal(head.match(/^message-id[ \t]*:/gim)?.length, 1, `${forms[i]![0]}: one Message-ID field, not a second one added`);
        assert.ok(head.includes(`${forms[i]![0]}\r\n`), `${forms[i]![0]}: kept as written`);
      });

      // An EmlItem made by other hands than readItems is normalised too, or refused.
      const ctx = createMessageContext(c.entries, SOURCE);
      const read = out[0]!.read;
      assert.ok(read.item.kind === 'eml');
      const handMade = { ...read, item: { ...read.item, id: ' bare@host.example (hand made)' } };
      assert.equal((await buildMessage(handMade, ctx)).messageId, '<bare@host.example>');
      await assert.rejects(buildMessage({ ...read, item: { ...read.item, id: 'not an id' } }, ctx), TypeError);
    } finally {
      await c.remove();
    }
  });
});
