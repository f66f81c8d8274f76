// EXAMINE the folder (a read-only SELECT, RFC 9051 §6.3.3, so that \Recent
// and the folder's state are left alone) before searching it; gives its
// UIDVALIDITY, the first half of every ref.
import type { ImapFlow, ImapFlowError } from 'imapflow';
import { isRefusal } from './faults.js';

/** EXAMINEs of one folder while another session may be creating it. */
const ATTEMPTS = 3;

/**
 * The folder's UIDVALIDITY, or undefined when the folder does not exist.
 *
 * imapflow answers a refused EXAMINE with a LIST of the folder, and marks the
 * error `mailboxMissing` when the folder is not listed. A refusal of a folder
 * that is listed is most often a race, not a refusal: another session (a
 * concurrent run delivering to the same mailbox) created the folder between
 * the two commands. So it is examined again; refused every time, the refusal
 * stands.
 */
export async function examine(client: ImapFlow, path: string): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      const mailbox = await client.mailboxOpen(path, { readOnly: true });
      return String(mailbox.uidValidity);
    } catch (e) {
      if (!isRefusal(e)) throw e;
      if ((e as ImapFlowError).mailboxMissing) return undefined;
      if (attempt >= ATTEMPTS) throw e;
    }
  }
}
