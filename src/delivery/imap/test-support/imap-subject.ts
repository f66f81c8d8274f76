// The contract subject (../../test-support/contract.ts) for the IMAP target
// on a real server, whichever: the folder is read back over a session of its
// own (imapflow's envelope gives the Message-ID, not our parsing), and lost
// connections come from the in-process fault proxy (test/support/fault-proxy.ts,
// a fake, named as such: no real server drops a connection mid-command on
// demand).
import type { ImapFlow } from 'imapflow';
import { startFaultProxy, type FaultProxy } from '../../../../test/support/fault-proxy.js';
import type { TestMessage } from '../../../../test/support/messages.js';
import type { ContractSubject, Interruption, ReadBack, StoredCopy } from '../../test-support/contract.js';
import { createImapTarget, type ImapTargetOptions } from '../index.js';

export interface ImapServer {
  readonly host: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: string;
  /** A session acting for `mailbox`, not through the target under test. */
  openAs(mailbox: string): Promise<ImapFlow>;
}

export interface ImapSubjectOptions {
  readonly name: string;
  /** Starts the server (once for the subject). */
  start(): Promise<ImapServer & { stop(): Promise<void> }>;
  readonly mailbox: string;
  /** The folder setting as this server names it: "Inbox/Ct-1" -> "INBOX.Ct-1" on Dovecot's Maildir, "INBOX/Ct-1" on Cyrus. */
  serverPath(folder: string): string;
  /** More target options (auth mode…). */
  readonly targetOptions?: Partial<ImapTargetOptions>;
}

const FAST_RETRY = { retries: 3, baseDelayMs: 10, maxDelayMs: 50 };

async function withSession<T>(server: ImapServer, mailbox: string, fn: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = await server.openAs(mailbox);
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export function imapSubject(o: ImapSubjectOptions): ContractSubject {
  let server: (ImapServer & { stop(): Promise<void> }) | undefined;
  let proxy: FaultProxy | undefined;
  const running = (): ImapServer => {
    if (!server) throw new Error(`${o.name}: not set up`);
    return server;
  };
  const target = (port: number, retry = FAST_RETRY) =>
    createImapTarget({
      url: `imap://${encodeURIComponent(running().adminUser)}@127.0.0.1:${port}?starttls=never`,
      password: running().adminPassword,
      batchSize: 4,
      retry,
      ...o.targetOptions,
    });

  const viaProxy = (name: string, expect: Interruption['expect'], fault: (p: FaultProxy) => Promise<void>): Interruption => {
    let cutsBefore = 0;
    return {
      name,
      expect,
      target: () => target(proxy!.port),
      arm: () => {
        cutsBefore = proxy!.cuts;
        void fault(proxy!).then(() => {
          if (expect === 'leaves-unknown') proxy!.refuseNext(1_000_000); // and from then on the server is away
        });
      },
      struck: () => proxy!.cuts > cutsBefore,
      disarm: () => {
        // A fault that never struck is dropped by arming a harmless one that matches nothing.
        void proxy!.cutWhenServerSays(/(?!)/);
        proxy!.refuseNext(0);
      },
    };
  };

  return {
    name: o.name,
    async setUp() {
      server = await o.start();
      proxy = await startFaultProxy({ host: server.host, port: server.port });
    },
    async tearDown() {
      await proxy?.close();
      await server?.stop();
    },
    mailbox: () => o.mailbox,
    target: () => target(running().port),
    async readBack(mailbox: string, folder: string): Promise<ReadBack> {
      const path = o.serverPath(folder);
      return withSession(running(), mailbox, async (client) => {
        const listed = await client.list();
        if (!listed.some((f) => f.path === path)) return { exists: false, copies: [] };
        const opened = await client.mailboxOpen(path, { readOnly: true });
        const copies: StoredCopy[] = [];
        if (opened.exists > 0) {
          for await (const m of client.fetch('1:*', { uid: true, envelope: true })) {
            copies.push({ messageId: m.envelope?.messageId, ref: `${opened.uidValidity}:${m.uid}` });
          }
        }
        return { exists: true, copies };
      });
    },
    async makeFolder(mailbox: string, folder: string, message: TestMessage) {
      const path = o.serverPath(folder);
      await withSession(running(), mailbox, async (client) => {
        await client.mailboxCreate(path);
        await client.append(path, message.bytes, [], message.internalDate);
      });
    },
    interruptions: () => [
      // The server stored the command, its OK (with APPENDUID) is lost.
      viaProxy('the OK of an APPEND is lost after the server stored it', 'recovers', (p) => p.cutWhenServerSays(/ OK \[APPENDUID /)),
      // Past the login and into the messages (each about 2 KB).
      viaProxy('the connection dies in the middle of an APPEND', 'recovers', (p) => p.cutAfterClientBytes(5_000)),
      viaProxy('the OK of an APPEND is lost, and the server stays away', 'leaves-unknown', (p) => p.cutWhenServerSays(/ OK \[APPENDUID /)),
      viaProxy('the connection dies in the middle of an APPEND, and the server stays away', 'leaves-unknown', (p) => p.cutAfterClientBytes(5_000)),
    ],
  };
}
