// EXAMINE the folder (a read-only SELECT, RFC 9051 §6.3.3, so that \Recent
// and the folder's state are left alone) before searching it; gives its
// UIDVALIDITY, the first half of every ref.
import type { ImapFlow, ImapFlowError } from 'imapflow';
import { isRefusal } from './faults.js';

/** The folder's UIDVALIDITY, or undefined when the folder does not exist. */
export async function examine(client: ImapFlow, path: string): Promise<string | undefined> {
  try {
    const mailbox = await client.mailboxOpen(path, { readOnly: true });
    return String(mailbox.uidValidity);
  } catch (e) {
    if (isRefusal(e) && (e as ImapFlowError).mailboxMissing) return undefined;
    throw e;
  }
}
