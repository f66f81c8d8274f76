// The MailboxTarget contract (src/delivery/test-support/contract.ts) for the
// IMAP target on Cyrus IMAP 3.6 (test/support/cyrus.ts): virtual domains
// (virtdomains: userid), the administrator acting for the mailbox by SASL
// PLAIN authorization identity, the alternate namespace with "/" as the
// separator, and CREATE of an existing folder answered by a plain NO.
import { startCyrus } from '../../../test/support/cyrus.js';
import { mailboxTargetContract } from '../test-support/contract.js';
import { imapSubject } from './test-support/imap-subject.js';

const MAILBOX = 'ana@corp.example';

mailboxTargetContract(
  imapSubject({
    name: 'IMAP on Cyrus 3.6 (virtdomains: userid, admin acting by SASL PLAIN authzid)',
    mailbox: MAILBOX,
    serverPath: (folder) => folder.replace(/^inbox(?=\/|$)/i, 'INBOX'),
    targetOptions: { auth: 'sasl-plain' },
    async start() {
      // A second user of the same name in another domain: a delivery to the wrong one would show.
      const cyrus = await startCyrus({ users: [MAILBOX, 'ana@other.example'] });
      return {
        host: cyrus.host,
        port: cyrus.port,
        adminUser: cyrus.adminUser,
        adminPassword: cyrus.adminPassword,
        openAs: (mailbox) => cyrus.openAs(mailbox),
        stop: () => cyrus.stop(),
      };
    },
  }),
);
