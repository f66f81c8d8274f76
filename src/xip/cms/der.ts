// A small strict DER reader (X.690 §10), used beside pkijs for two things
// pkijs does not give: proof that an input is DER rather than BER, and the
// exact bytes of an element (certificates, SubjectPublicKeyInfo, names)
// where a re-encoding could differ from what was signed or hashed.
// Every length is bounds-checked before use (yauzl's discipline).

export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One tag-length-value element: `start` of the tag, `contentStart`, `end` (exclusive). */
export interface Tlv {
  readonly tagClass: number; // 0 universal, 1 application, 2 context, 3 private
  readonly constructed: boolean;
  readonly tagNumber: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

const MAX_DEPTH = 64;

/** Reads the element at `offset`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  let pos = offset;
  const byte = (): number => {
    if (pos >= limit) throw new DerError(`truncated element at offset ${offset}`);
    return buf[pos++] as number;
  };
  const first = byte();
  const tagClass = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    // High tag number form: base-128, no leading 0x80 (X.690 §8.1.2.4.2 c), and only for tags >= 31.
    tagNumber = 0;
    let b = byte();
    if (b === 0x80) throw new DerError(`non-minimal tag at offset ${offset}`);
    for (;;) {
      if (tagNumber > 0xffffff) throw new DerError(`tag number too large at offset ${offset}`);
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
      b = byte();
    }
    if (tagNumber < 0x1f) throw new DerError(`non-minimal tag at offset ${offset}`);
  }
  const lenByte = byte();
  let length: number;
  if (lenByte < 0x80) {
    length = lenByte;
  } else if (lenByte === 0x80) {
    throw new DerError(`indefinite length at offset ${offset} (BER, not DER)`);
  } else {
    const n = lenByte & 0x7f;
    if (n > 4) throw new DerError(`length too large at offset ${offset}`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + byte();
    // DER: the shortest form (X.690 §10.1).
    if (length < 0x80 || (n > 1 && length < 2 ** (8 * (n - 1)))) {
      throw new DerError(`non-minimal length at offset ${offset}`);
    }
  }
  const contentStart = pos;
  const end = contentStart + length;
  if (end > limit) throw new DerError(`element at offset ${offset} overruns its container`);
  return { tagClass, constructed, tagNumber, start: offset, contentStart, end };
}

/** The elements inside a constructed element. */
export function children(buf: Uint8Array, tlv: Tlv): Tlv[] {
  if (!tlv.constructed) throw new DerError(`element at offset ${tlv.start} is not constructed`);
  const out: Tlv[] = [];
  let pos = tlv.contentStart;
  while (pos < tlv.end) {
    const child = readTlv(buf, pos, tlv.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** The whole element, tag and length included. */
export function raw(buf: Uint8Array, tlv: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + tlv.start, tlv.end - tlv.start);
}

/** The content octets only. */
export function content(buf: Uint8Array, tlv: Tlv): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + tlv.contentStart, tlv.end - tlv.contentStart);
}

// Universal types that DER requires to be primitive (X.690 §10.2): BIT STRING,
// OCTET STRING and the character and time strings.
const PRIMITIVE_ONLY = new Set([1, 2, 3, 4, 5, 6, 10, 12, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30]);

/**
 * Checks that `buf` is exactly one DER element: definite minimal lengths,
 * minimal tags, primitive strings, no trailing bytes. Returns the element.
 */
export function parseDer(buf: Uint8Array): Tlv {
  if (buf.length === 0) throw new DerError('empty input');
  const top = readTlv(buf, 0);
  if (top.end !== buf.length) throw new DerError(`${buf.length - top.end} bytes after the DER element`);
  // Iterative walk with an explicit stack: nesting depth is bounded, never the call stack.
  const stack: Array<{ tlv: Tlv; depth: number }> = [{ tlv: top, depth: 0 }];
  while (stack.length > 0) {
    const { tlv, depth } = stack.pop() as { tlv: Tlv; depth: number };
    if (tlv.tagClass === 0 && tlv.constructed && PRIMITIVE_ONLY.has(tlv.tagNumber)) {
      throw new DerError(`constructed string at offset ${tlv.start} (BER, not DER)`);
    }
    if (tlv.tagClass === 0 && !tlv.constructed && (tlv.tagNumber === 16 || tlv.tagNumber === 17)) {
      throw new DerError(`primitive SEQUENCE/SET at offset ${tlv.start}`);
    }
    if (!tlv.constructed) continue;
    if (depth >= MAX_DEPTH) throw new DerError(`nesting deeper than ${MAX_DEPTH}`);
    for (const child of children(buf, tlv)) stack.push({ tlv: child, depth: depth + 1 });
  }
  return top;
}

/** Encodes a tag byte and a DER length in front of `body`. Tags < 31 only. */
export function encodeTlv(tag: number, body: Uint8Array): Buffer {
  const len = body.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), body]);
}

/** Hex of an INTEGER's content, lower case, without sign-padding zero bytes. */
export function integerHex(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}

/** Dotted form of an OBJECT IDENTIFIER's content octets (X.690 §8.19). */
export function decodeOid(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (value === 0 && b === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    if (value > 2 ** 45) throw new DerError('OBJECT IDENTIFIER arc too large');
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    } else if (i === bytes.length - 1) throw new DerError('truncated OBJECT IDENTIFIER');
  }
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}
