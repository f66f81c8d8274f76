// Reads a folder back through a Dovecot started by dovecot.ts, as a person's
// mail client would see it: over IMAP, logged in with the master user acting
// for the mailbox.
import { ImapFlow } from 'imapflow';
import type { Dovecot } from './dovecot.js';

export interface StoredMessage {
  readonly uid: number;
  /** "uidvalidity:uid", as the IMAP target reports it. */
  readonly ref: string;
  readonly messageId: string | undefined;
  readonly flags: ReadonlySet<string>;
  readonly internalDate: Date;
  readonly size: number;
  readonly source: Buffer;
}

export async function openAs(dovecot: Dovecot, user: string): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: dovecot.host,
    port: dovecot.port,
    secure: false,
    auth: { user: dovecot.masterUser, pass: dovecot.masterPassword, authzid: user, loginMethod: 'AUTH=PLAIN' },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Folder paths of a mailbox, as LIST shows them, with the hierarchy delimiter. */
export async function listFolders(dovecot: Dovecot, user: string): Promise<{ paths: string[]; delimiter: string }> {
  const client = await openAs(dovecot, user);
  try {
    const list = await client.list();
    return { paths: list.map((f) => f.path).sort(), delimiter: list[0]?.delimiter ?? '/' };
  } finally {
    await client.logout();
  }
}

export async function readFolder(dovecot: Dovecot, user: string, path: string): Promise<StoredMessage[]> {
  const client = await openAs(dovecot, user);
  try {
    const mailbox = await client.mailboxOpen(path, { readOnly: true });
    const out: StoredMessage[] = [];
    if (client.mailbox && client.mailbox.exists > 0) {
      for await (const m of client.fetch('1:*', { uid: true, flags: true, internalDate: true, size: true, envelope: true, source: true })) {
        out.push({
          uid: m.uid,
          ref: `${mailbox.uidValidity}:${m.uid}`,
          messageId: m.envelope?.messageId,
          flags: m.flags ?? new Set(),
          internalDate: new Date(m.internalDate as Date | string),
          size: m.size ?? -1,
          source: m.source ?? Buffer.alloc(0),
        });
      }
    }
    return out.sort((a, b) => a.uid - b.uid);
  } finally {
    await client.logout();
  }
}
