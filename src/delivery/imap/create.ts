// CREATE the folder when it is missing (RFC 9051 §6.3.4), through imapflow,
// which also SUBSCRIBEs a folder it created (so that clients showing only
// subscribed folders show it) and takes NO [ALREADYEXISTS] (RFC 5530) as "it
// is there".
//
// Not every server sends that code: Cyrus IMAP 3.6 answers a CREATE of an
// existing folder with a plain "NO Mailbox already exists". The text of a NO
// is for people (RFC 9051 §7.1) and differs by server and language, so it is
// not read: after any NO to CREATE the folder is EXAMINEd, and taken as it is
// when it exists; otherwise the CREATE's own refusal stands.
import type { ImapFlow } from 'imapflow';
import { examine } from './examine.js';
import { isRefusal } from './faults.js';

export async function createFolder(client: ImapFlow, path: string): Promise<void> {
  try {
    await client.mailboxCreate(path);
  } catch (e) {
    if (!isRefusal(e)) throw e; // a lost connection: retried by the caller
    let exists: boolean;
    try {
      exists = (await examine(client, path)) !== undefined;
    } catch (probe) {
      if (!isRefusal(probe)) throw probe;
      exists = false; // EXAMINE refused too (\Noselect, no rights): the folder cannot be used
    }
    if (!exists) throw e;
  }
}
