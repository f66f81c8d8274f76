// The MailboxTarget contract (src/delivery/test-support/contract.ts) for the
// Maildir target. The folder is read back from disk by this file's own
// reader (cur/ and new/, the Message-ID from each file's header), not by the
// target's index. Maildir has no connection to lose; its `unknown` comes from
// an fsync of cur/ that fails after the renames, injected through the
// target's test-only seam (a failing fsync needs a failing device).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mailboxTargetContract, type ReadBack, type StoredCopy } from '../test-support/contract.js';
import { createMaildirTarget } from './index.js';

let root = '';
let fsyncFailures = 0;

/** "Inbox/Ct-1" -> ".INBOX.Ct-1", Dovecot's Maildir++ name, written out here rather than taken from layout.ts. */
function folderDir(mailbox: string, folder: string): { dir: string; relative: string } {
  const parts = folder.split('/');
  if (parts[0]!.toUpperCase() === 'INBOX') parts[0] = 'INBOX';
  const relative = '.' + parts.join('.');
  return { dir: join(root, mailbox.toLowerCase(), relative), relative };
}

async function readBack(mailbox: string, folder: string): Promise<ReadBack> {
  const { dir, relative } = folderDir(mailbox, folder);
  const copies: StoredCopy[] = [];
  let exists = false;
  for (const sub of ['cur', 'new']) {
    let names: string[];
    try {
      names = await readdir(join(dir, sub));
      exists = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const name of names) {
      const text = (await readFile(join(dir, sub, name))).toString('latin1');
      const header = text.slice(0, text.search(/\r?\n\r?\n/));
      copies.push({ messageId: /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(header)?.[1], ref: `${relative}/${sub}/${name}` });
    }
  }
  return { exists, copies };
}

mailboxTargetContract({
  name: 'Maildir',
  async setUp() {
    root = await mkdtemp(join(tmpdir(), 'xip-maildir-contract-'));
  },
  async tearDown() {
    await rm(root, { recursive: true, force: true });
  },
  mailbox: () => 'ana@corp.example',
  target: () => createMaildirTarget({ root }),
  readBack,
  async makeFolder(mailbox, folder, message) {
    // As Dovecot makes it: the three directories, `maildirfolder`, and a message delivered into new/.
    const { dir } = folderDir(mailbox, folder);
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(dir, sub), { recursive: true });
    await writeFile(join(dir, 'maildirfolder'), '');
    await writeFile(join(dir, 'new', '1700000000.M1P1Q1.elsewhere'), message.bytes);
  },
  interruptions: () => [
    {
      name: "the fsync of cur/ fails after the renames (the target's test-only seam)",
      expect: 'leaves-unknown',
      target: () =>
        createMaildirTarget({
          root,
          testSeams: {
            fsyncDir: async (path) => {
              if (!path.endsWith('/cur')) return;
              fsyncFailures++;
              throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
            },
          },
        }),
      arm: () => {
        fsyncFailures = 0;
      },
      struck: () => fsyncFailures > 0,
      disarm: () => undefined,
    },
  ],
});
