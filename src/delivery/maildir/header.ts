// Reads the Message-ID of a stored message from its header block only: the
// file is read in small chunks until the blank line that ends the header
// (RFC 5322 §2.1), never whole.
import { open } from 'node:fs/promises';
import { messageIdOf } from '../message-id.js';

const CHUNK = 16 * 1024;
/** A header block larger than this is not a message we wrote; it is read no further. */
const MAX_HEADER = 1024 * 1024;

/** The Message-ID header's value ("<...>"), or undefined when the message has none. */
export async function readMessageId(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    let end = -1;
    while (total < MAX_HEADER) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, total);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      end = headerEnd(all);
      if (end >= 0) return messageIdOf(all.subarray(0, end).toString('latin1'));
    }
    return messageIdOf(Buffer.concat(chunks).toString('latin1'));
  } finally {
    await fh.close();
  }
}

function headerEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}
