// The item parser (src/items/: .json, .ndjson lines, .eml header blocks,
// xip.json) and what is built from a parsed item: its message (src/message/)
// and its mailboxes (src/mapping/resolve.ts). Items are what a source writes,
// and one bad item must fail alone: readItems never throws, every failure has
// an item code, and every item it accepts becomes a message of exactly the
// size announced, with a header block that is RFC 5322 (lines of at most 998
// octets, each a field or a continuation).
//
// An input is "<kind>\n<entry bytes>", kind being json, ndjson, eml or
// xip.json; without a known kind the whole input is an .ndjson entry.
import { Readable } from 'node:stream';
import { readItems, resolveSource, type DataEntry, type ItemResult, type VerifiedEntries } from '../../src/items/index.js';
import { isItemCode } from '../../src/errors.js';
import { buildMessage, createMessageContext } from '../../src/message/index.js';
import { loadDirectory, loadMapping, mappingOptions, resolveMailboxes, type MappingOptions } from '../../src/mapping/index.js';
import { codedOutcome, codes, FuzzViolation, type Target } from '../target.js';
import { SAMPLE_DIRECTORY, SAMPLE_EML, SAMPLE_ITEMS, SAMPLE_MAPPING, SAMPLE_RAW_JSON } from '../seeds.js';

const KINDS = { json: 'items/a/item.json', ndjson: 'items/chat.ndjson', eml: 'items/mail/m.eml', 'xip.json': 'xip.json' } as const;
type Kind = keyof typeof KINDS;
const XIP_JSON = codes('XIP_JSON_INVALID');
/** Far above any message these inputs can make; a larger one is a fault of the builder. */
const MAX_MESSAGE = 64 * 1024 * 1024;

const ATTACHMENTS: Readonly<Record<string, Buffer>> = {
  'attachments/quote.txt': Buffer.from('EUR/CHF 0.9412\r\n'),
  'attachments/data.bin': Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff)),
  'attachments/empty': Buffer.alloc(0),
};

export function splitInput(input: Buffer): { kind: Kind; content: Buffer } {
  const nl = input.indexOf(0x0a);
  const head = nl < 0 ? '' : input.subarray(0, nl).toString('latin1');
  if (Object.hasOwn(KINDS, head)) return { kind: head as Kind, content: input.subarray(nl + 1) };
  return { kind: 'ndjson', content: input };
}

/** The port readItems and buildMessage see, over bytes in memory; the item entry is handed out in uneven chunks so that reads across chunk edges are exercised. */
function entriesOf(kind: Kind, content: Buffer, packageSource: string | undefined): VerifiedEntries {
  const files = new Map<string, Buffer>([[KINDS[kind], content], ...Object.entries(ATTACHMENTS)]);
  const entries: DataEntry[] = [...files].map(([name, bytes]) => ({ name, size: bytes.length, sha256: '00'.repeat(32), mimeType: 'application/octet-stream' }));
  const first = 1 + ((content[0] ?? 0) % 61);
  return {
    sha256: 'ab'.repeat(32),
    signer: { subject: 'CN=Fuzz', sha256: 'cd'.repeat(32) },
    packageSource,
    entries,
    openEntry(name: string): Readable {
      const bytes = files.get(name);
      if (bytes === undefined) throw new FuzzViolation('port', `openEntry of "${name}", which is not an entry`);
      const chunks: Buffer[] = [];
      for (let at = 0, size = first; at < bytes.length; at += size, size = 4096) chunks.push(bytes.subarray(at, at + size));
      return Readable.from(chunks);
    },
  };
}

async function drain(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    length += b.length;
    if (length > max) throw new FuzzViolation('size', `a message stream gave more than ${max} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks, length);
}

/** RFC 5322 §2.1.1 and §2.2: header lines of at most 998 octets, each a field "name:" or a folded continuation. */
function checkHeader(message: Buffer, itemId: string): void {
  const end = message.indexOf('\r\n\r\n');
  const head = message.subarray(0, end < 0 ? message.length : end).toString('latin1');
  for (const line of head.split('\r\n')) {
    if (line.length > 998) throw new FuzzViolation('header', `item ${JSON.stringify(itemId)}: a header line of ${line.length} octets`);
    if (!/^[\x21-\x39\x3b-\x7e]+:|^[ \t]/.test(line)) throw new FuzzViolation('header', `item ${JSON.stringify(itemId)}: header line ${JSON.stringify(line.slice(0, 80))} is neither a field nor a continuation`);
    if (/[\r\n]/.test(line)) throw new FuzzViolation('header', `item ${JSON.stringify(itemId)}: a bare CR or LF inside the header block`);
  }
}

function seeds(): Buffer[] {
  const items = SAMPLE_ITEMS.map((i) => JSON.stringify(i));
  return [
    ...items.map((i) => `json\n${i}`),
    `ndjson\n${items.join('\n')}\n\n  \r\n${SAMPLE_RAW_JSON.join('\r\n')}`,
    ...SAMPLE_RAW_JSON.map((i) => `json\n\uFEFF${i}`),
    ...SAMPLE_EML.map((e) => `eml\n${e}`),
    'xip.json\n{"source":"chat-export","items":3}',
    'xip.json\n{"items":null,"source":null}',
  ].map((s) => Buffer.from(s, 'utf8'));
}

export const itemsTarget: Target = {
  name: 'items',
  description: 'readItems over one .json/.ndjson/.eml entry, then buildMessage and resolveMailboxes for each item read; or resolveSource over xip.json',
  maxLength: 64 * 1024,
  dictionary: [
    '{', '}', '[', ']', '{"a":', '[[[[', '"', '\\', '\\u0000', '\\ud800', '\\"', ',', ':', 'null', 'true', '1e999', '-0', '123456789012345678901234567890',
    '"__proto__"', '"constructor"', '"properties":{', '"attachments":[{"path":"attachments/quote.txt"}]', '"path":"attachments/missing"', '"contentType":"a/b; x=\\"y\\""',
    '"sentAt":"2026-11-22T14:03:11Z"', '"sentAt":"9999-12-31T23:59:60+23:59"', '"from":{"email":"a@b.example"}', '"from":{"sourceId":"u-1"}', '"Email":["a@b.example"]',
    '"role":"bcc"', '"type":"a.b"', '"id":"', '"subject":"', '"body":{"text":"', '"html":"', '\r\n', '\n', '\r', '\t', ' ', '\uFEFF', '\u2028', '\u00e9',
    'Message-ID: <a@b>\r\n', 'Date: Sun, 22 Nov 2026 14:03:11 +0100\r\n', 'From: a@b.example\r\n', 'To: "x, y" <x@y.example>, z@w.example\r\n', 'Subject: =?utf-8?B?w6k=?=\r\n',
    '=?utf-8?Q?', '?=', ' (comment) ', '<', '>', '@', 'group: a@b.example;', '\r\n ', '\r\n\r\n',
  ],
  async setup() {
    const directory = loadDirectory(SAMPLE_DIRECTORY, 'users.csv');
    const mapping = loadMapping(SAMPLE_MAPPING, 'mapping.csv', directory);
    const options: MappingOptions = mappingOptions({ directory, mapping, catchAll: 'desk@corp.example' });
    return {
      seeds: seeds(),
      async run(input: Buffer): Promise<string> {
        const { kind, content } = splitInput(input);
        if (kind === 'xip.json') {
          try {
            const r = await resolveSource(entriesOf(kind, content, undefined), { connectorName: 'fuzz' });
            return `ok:source:${r.from}`;
          } catch (e) {
            return codedOutcome(e, XIP_JSON);
          }
        }
        const entries = entriesOf(kind, content, 'fuzz-source');
        const ctx = createMessageContext(entries, 'fuzz-source');
        const results: ItemResult[] = [];
        for await (const r of readItems(entries, { limits: { maxItemBytes: 64 * 1024 } })) results.push(r);
        const outcomes = new Set<string>();
        for (const r of results) {
          if (!r.ok) {
            if (!isItemCode(r.failure.code)) throw new FuzzViolation('code', `item failure with code ${String(r.failure.code)}, not an item code`);
            outcomes.add(r.failure.code);
            continue;
          }
          const message = await buildMessage(r, ctx);
          const bytes = await drain(message.open(), Math.min(message.size, MAX_MESSAGE));
          if (bytes.length !== message.size) throw new FuzzViolation('size', `item ${JSON.stringify(r.item.id)}: the message announced ${message.size} bytes and gave ${bytes.length}`);
          if (r.item.kind === 'json') checkHeader(bytes, r.item.id);
          const mailboxes = resolveMailboxes(r.item, options);
          outcomes.add(`ok:${r.item.kind}:${mailboxes.catchAll ? 'catchall' : 'mapped'}`);
        }
        return [...outcomes].sort().join(',') || 'empty';
      },
      async teardown() {},
    };
  },
};
