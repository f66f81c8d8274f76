import type { DataEntry, VerifiedEntries } from './ports.js';

/**
 * Reads a whole entry into memory when its declared size is within `maxBytes`
 * (undefined otherwise, without opening it). The count is enforced while
 * reading as well, so an entry that yields more than it declared is not held.
 */
export async function readAll(entries: VerifiedEntries, entry: DataEntry, maxBytes: number): Promise<Buffer | undefined> {
  if (entry.size > maxBytes) return undefined;
  const stream = entries.openEntry(entry.name);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) return undefined;
      chunks.push(chunk);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, length);
}
