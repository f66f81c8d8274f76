// Reads the Message-ID of a stored message from its header block only: the
// file is read in small chunks until the blank line that ends the header
// (RFC 5322 §2.1), never whole. The id is read by the one Message-ID reader,
// the one that gave the item its id, so a copy is found whatever the form of
// its header (no brackets, comments, folding, any case of field name).
import { open } from 'node:fs/promises';
import { messageIdOfHeader } from '../../message/message-id.js';

const CHUNK = 16 * 1024;
/** A header block larger than this is not a message we wrote; it is read no further. */
const MAX_HEADER = 1024 * 1024;

/** The normalised Message-ID ("<id-left@id-right>"), or undefined when the message has none (or none readable). */
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
      if (end >= 0) return idOf(all.subarray(0, end));
    }
    return idOf(Buffer.concat(chunks));
  } finally {
    await fh.close();
  }
}

/** Decoded as UTF-8, as items/eml.ts decodes an .eml's header (RFC 6532), so that both read the same id. */
function idOf(header: Buffer): string | undefined {
  return messageIdOfHeader(header.toString('utf8'));
}

function headerEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}
