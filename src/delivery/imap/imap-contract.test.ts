// The MailboxTarget contract (src/delivery/test-support/contract.ts) for the
// IMAP target on Dovecot 2.3: as it comes (MULTIAPPEND, LITERAL+, UIDPLUS),
// and offering neither MULTIAPPEND nor LITERAL+, where every message goes in
// an APPEND of its own with a synchronising literal.
import { startDovecot } from '../../../test/support/dovecot.js';
import { openAs } from '../../../test/support/imap-read.js';
import { mailboxTargetContract } from '../test-support/contract.js';
import { imapSubject } from './test-support/imap-subject.js';

const MAILBOX = 'ana@corp.example';
const dovecotPath = (folder: string): string => folder.replace(/^inbox(?=\/|$)/i, 'INBOX').split('/').join('.');

function onDovecot(name: string, withoutCapabilities: string[]): void {
  mailboxTargetContract(
    imapSubject({
      name,
      mailbox: MAILBOX,
      serverPath: dovecotPath,
      async start() {
        const dovecot = await startDovecot({ users: [MAILBOX], withoutCapabilities });
        return {
          host: dovecot.host,
          port: dovecot.port,
          adminUser: dovecot.masterUser,
          adminPassword: dovecot.masterPassword,
          openAs: (mailbox) => openAs(dovecot, mailbox),
          stop: () => dovecot.stop(),
        };
      },
    }),
  );
}

onDovecot('IMAP on Dovecot 2.3 (MULTIAPPEND, LITERAL+)', []);
onDovecot('IMAP on Dovecot 2.3 offering neither MULTIAPPEND nor LITERAL+', ['MULTIAPPEND', 'LITERAL+']);
