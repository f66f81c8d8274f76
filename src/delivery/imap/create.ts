// CREATE the folder when it is missing (RFC 9051 §6.3.4), through imapflow,
// which also SUBSCRIBEs a folder it created (so that clients showing only
// subscribed folders show it) and takes NO [ALREADYEXISTS] (RFC 5530) as "it
// is there".
import type { ImapFlow } from 'imapflow';

export async function createFolder(client: ImapFlow, path: string): Promise<void> {
  await client.mailboxCreate(path);
}
