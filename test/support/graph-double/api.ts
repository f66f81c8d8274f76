// What a test reads and arranges in a contract double of Microsoft Graph
// directly, never through the client under test: a mailbox's folders and
// stored messages, folders and mail that were there before the run, users
// joining or leaving the tenant.
import { Directory, folderByPath, storeMessage, type Folder, type Mailbox } from './state.js';
import { newMessage } from './mail.js';
import type { GraphDouble, GraphDoubleFolder } from './index.js';

export type MailboxApi = Pick<GraphDouble, 'messages' | 'folders' | 'createFolder' | 'addMessage' | 'addMailbox' | 'removeMailbox' | 'userId'>;

export function mailboxApi(directory: Directory): MailboxApi {
  const mailboxOf = (address: string): Mailbox => {
    const mb = directory.forMail(address);
    if (!mb) throw new Error(`graph double: no mailbox ${address}`);
    return mb;
  };
  return {
    messages(mailbox, folderPath) {
      const folder = folderByPath(mailboxOf(mailbox), folderPath, false);
      return (folder?.messages ?? []).map((m) => ({ id: m.id, internetMessageId: m.internetMessageId, isDraft: m.isDraft, parentFolderId: m.parentFolderId, mime: m.mime, receivedDateTime: m.receivedDateTime }));
    },
    folders(mailbox) {
      const out: GraphDoubleFolder[] = [];
      const walk = (f: Folder, path: string): void => {
        out.push({ id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId, path, wellKnownName: f.wellKnownName });
        for (const c of f.children) walk(c, path === '' ? c.displayName : `${path}/${c.displayName}`);
      };
      walk(mailboxOf(mailbox).root, '');
      return out;
    },
    createFolder: (mailbox, path) => folderByPath(mailboxOf(mailbox), path, true)!.id,
    addMessage(mailbox, folderPath, mime) {
      const mb = mailboxOf(mailbox);
      const folder = folderByPath(mb, folderPath, true)!;
      const m = newMessage(mb, folder, Buffer.from(mime));
      storeMessage(folder, m);
      return m.id;
    },
    addMailbox: (mailbox) => void directory.add(mailbox),
    removeMailbox(address) {
      if (!directory.remove(address)) throw new Error(`graph double: no mailbox ${address}`);
    },
    userId: (mailbox) => mailboxOf(mailbox).id,
  };
}
