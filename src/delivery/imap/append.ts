// A single APPEND through imapflow (RFC 9051 §6.3.12), for servers that do not
// offer MULTIAPPEND: one round trip per message. imapflow wants the message
// as bytes, so it is read into memory first (bounded by the message's size).
import type { ImapFlow } from 'imapflow';
import type { OutgoingMessage } from '../port.js';
import type { AppendUid } from './appenduid.js';
import { SourceFault } from './multiappend.js';

async function readAll(message: OutgoingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = message.open();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (total > message.size) throw new SourceFault(0, `the message stream yields more than the declared ${message.size} octets`);
      chunks.push(buf);
    }
  } catch (e) {
    stream.destroy();
    if (e instanceof SourceFault) throw e;
    throw new SourceFault(0, `the message stream failed: ${(e as Error).message}`, { cause: e });
  }
  if (total !== message.size) throw new SourceFault(0, `the message stream yielded ${total} octets, ${message.size} were declared`);
  return Buffer.concat(chunks, total);
}

export async function appendOne(client: ImapFlow, path: string, message: OutgoingMessage): Promise<AppendUid | undefined> {
  const bytes = await readAll(message);
  const result = await client.append(path, bytes, ['\\Seen'], message.internalDate);
  if (!result) throw new Error('imapflow did not append: the session is not authenticated');
  if (result.uid === undefined || result.uidValidity === undefined) return undefined;
  return { uidValidity: String(result.uidValidity), uids: [result.uid] };
}
