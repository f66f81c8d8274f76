// X-XIP-Properties (xip-items.md §3: `properties` as one header of compact
// JSON): what the item held, exactly, however it is nested; and no item that
// readItems accepts makes buildMessage throw.
import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import type { ItemResult, JsonItem } from '../items/item.js';
import { readItems } from '../items/read.js';
import { tempEntries } from '../items/test-support/dir-entries.js';
import { buildMessage } from './build.js';
import { createMessageContext } from './context.js';

const head = (id: string) => `"id":"${id}","type":"post","sentAt":"2026-11-22T14:03:11Z","from":{"email":"ana@corp.example"}`;

/** The X-XIP-Properties value of each message, unfolded and decoded by mailparser (an independent reader). */
async function propertiesHeaders(files: Record<string, string>): Promise<{ values: (string | undefined)[]; failures: unknown[] }> {
  const c = await tempEntries(files);
  try {
    const ctx = createMessageContext(c.entries, 'S');
    const values: (string | undefined)[] = [];
    const failures: unknown[] = [];
    for await (const r of readItems(c.entries)) {
      if (!r.ok) {
        failures.push(r.failure);
        continue;
      }
      const parsed = await simpleParser(await buffer((await buildMessage(r, ctx)).open()));
      const raw = parsed.headerLines.find((h) => h.key === 'x-xip-properties')?.line;
      values.push(raw === undefined ? undefined : (await simpleParser(`Subject: ${raw.slice(raw.indexOf(':') + 1).trim()}\r\n\r\n`)).subject);
    }
    return { values, failures };
  } finally {
    await c.remove();
  }
}

describe('X-XIP-Properties', () => {
  it('fault 8: keeps integers beyond 2^53, -0, 1e400, 1.0 and floats of many digits exactly as they came', async () => {
    const props = '{"big":12345678901234567890123,"neg":-9007199254740993,"zero":-0,"huge":1e400,"one":1.0,"pi":3.14159265358979323846264338327950288,"tiny":5e-324,"n":42}';
    const { values, failures } = await propertiesHeaders({ 'items/a.json': `{${head('a')},"properties":${props}}` });
    assert.deepEqual(failures, []);
    assert.deepEqual(values, [props]);
  });

  it('fault 8: keeps a "__proto__" key, "constructor", and keys in their order, of properties and of unknown top-level fields', async () => {
    const { values } = await propertiesHeaders({
      'items/a.json': `{${head('a')},"__proto__":{"top":1},"2":"two","properties":{"constructor":"c","b":1,"1":"one","__proto__":{"p":[{"__proto__":null}]}}}`,
    });
    assert.deepEqual(values, ['{"__proto__":{"p":[{"__proto__":null}]},"2":"two","constructor":"c","b":1,"1":"one"}']);
  });

  it('fault 3: writes properties nested 100,000 deep in an item made by other hands than readItems, without overflowing the stack', async () => {
    const c = await tempEntries({ 'items/a.json': `{${head('a')}}` });
    try {
      const read: ItemResult[] = [];
      for await (const r of readItems(c.entries)) read.push(r);
      const first = read[0];
      assert.ok(first?.ok);
      let deep: unknown = 1;
      for (let i = 0; i < 100_000; i++) deep = { a: deep };
      const item: JsonItem = { ...(first.item as JsonItem), properties: { deep } as JsonItem['properties'] };
      const message = await buildMessage({ item, origin: first.origin }, createMessageContext(c.entries, 'S'));
      assert.equal((await buffer(message.open())).length, message.size);
    } finally {
      await c.remove();
    }
  });

  it('is absent when the item has no properties, and holds an empty-named key and Unicode as JSON', async () => {
    const { values } = await propertiesHeaders({
      'items/a.ndjson': [`{${head('a')}}`, `{${head('b')},"properties":{"":"é\\u0001\\ud800 ${'w '.repeat(600)}"}}`].join('\n'),
    });
    assert.deepEqual(values, [undefined, `{"":"é\\u0001\\ud800 ${'w '.repeat(600)}"}`]);
  });
});
