import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitLines, type Line } from './lines.js';

async function collect(chunks: string[], max = 1024): Promise<Line[]> {
  async function* source() {
    for (const c of chunks) yield Buffer.from(c);
  }
  const out: Line[] = [];
  for await (const l of splitLines(source(), max)) out.push(l);
  return out;
}

const shown = (ls: Line[]) => ls.map((l) => (l.tooLong ? `${l.line}:too long (${l.length})` : `${l.line}:${l.bytes.toString()}`));

describe('splitLines', () => {
  it('gives the same lines however the bytes are split into chunks', async () => {
    const text = 'ab\r\ncd\n\nef\r\ngh';
    const whole = shown(await collect([text]));
    assert.deepEqual(whole, ['1:ab', '2:cd', '3:', '4:ef', '5:gh']);
    assert.deepEqual(shown(await collect([...text])), whole);
    assert.deepEqual(shown(await collect(['ab\r', '\ncd\n', '\nef\r\ng', 'h'])), whole);
  });

  it('reports a line beyond the limit by its length, keeps none of it, and goes on', async () => {
    const out = await collect(['12345', '67890', '\nok\n', 'x'.repeat(6), 'x'.repeat(5), '\r\nlast'], 10);
    assert.deepEqual(shown(out), ['1:1234567890', '2:ok', '3:too long (11)', '4:last']);
  });

  it('does not count the "\\r" of "\\r\\n" against the limit', async () => {
    assert.deepEqual(shown(await collect(['1234567890\r\n'], 10)), ['1:1234567890']);
  });
});
