// Decoding of RFC 2047 encoded-words, for the headers read from .eml items
// (names in From/To/Cc, Subject). Adjacent encoded-words are joined before
// decoding (§6.2: the whitespace between them is not displayed), so that a
// UTF-8 sequence split across two words comes out whole.

const WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g;

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding === 'B' || encoding === 'b') return Buffer.from(text, 'base64');
  // Q (§4.2): "_" is a space, "=XX" a byte, everything else itself.
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out.push(0x20);
    else if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c & 0xff);
  }
  return Buffer.from(out);
}

function decodeBytes(charset: string, bytes: Buffer): string | undefined {
  try {
    return new TextDecoder(charset.toLowerCase()).decode(bytes);
  } catch {
    return undefined; // a charset this runtime does not know: keep the words as they are
  }
}

export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let last = 0;
  let run: { charset: string; bytes: Buffer[]; raw: string } | undefined;
  const flush = (): void => {
    if (!run) return;
    out += decodeBytes(run.charset, Buffer.concat(run.bytes)) ?? run.raw;
    run = undefined;
  };
  for (const m of value.matchAll(WORD)) {
    const between = value.slice(last, m.index);
    const charset = (m[1] as string).toLowerCase();
    if (run && /^\s*$/.test(between) && run.charset === charset) {
      run.bytes.push(wordBytes(m[2] as string, m[3] as string));
      run.raw += between + m[0];
    } else {
      flush();
      // whitespace between two encoded-words (of different charsets here) is dropped too
      if (!(last > 0 && /^\s*$/.test(between))) out += between;
      run = { charset, bytes: [wordBytes(m[2] as string, m[3] as string)], raw: m[0] };
    }
    last = (m.index as number) + m[0].length;
  }
  flush();
  return out + value.slice(last);
}
