// The MailboxTarget contract (src/delivery/test-support/contract.ts) for the
// Microsoft 365 target, against the contract double of Microsoft Graph
// (test/support/graph-double/: a local HTTPS server following Graph's
// documented contract; no test reaches Microsoft). What a case checks is
// read back from the double's store, never through the target.
import { startGraphDouble, type GraphDouble } from '../../../test/support/graph-double/index.js';
import { parseMessageId } from '../../message/message-id.js';
import { mailboxTargetContract, type Interruption } from '../test-support/contract.js';
import { graphTargetOn } from './test-support/on-double.js';

const MAILBOX = 'ana@contoso.example';
let double: GraphDouble;

function target(retries = 3) {
  return graphTargetOn(double, { credential: { kind: 'secret', secret: double.clientSecret }, retry: { retries, baseDelayMs: 5, maxDelayMs: 50 } });
}

/** A fault on importMime that struck when the double's pending count went down. */
function importFault(name: string, expect: Interruption['expect'], rules: () => void, retries: number): Interruption {
  let before = 0;
  return {
    name,
    expect,
    target: () => target(retries),
    arm() {
      before = double.requestLog.length;
      rules();
    },
    struck: () => double.requestLog.slice(before).some((e) => e.status === 0 || e.status >= 500),
    disarm() {
      double.clearFaults();
    },
  };
}

mailboxTargetContract({
  name: 'Microsoft 365 through the contract double of Microsoft Graph (importMime, secret credential)',
  async setUp() {
    double = await startGraphDouble({ mailboxes: [MAILBOX] });
  },
  tearDown: () => double.stop(),
  mailbox: () => MAILBOX,
  target: () => target(),
  async readBack(mailbox, folder) {
    const exists = double.folders(mailbox).some((f) => f.path.toLowerCase() === folder.toLowerCase());
    const copies = double.messages(mailbox, folder).map((m) => ({ messageId: m.internetMessageId === undefined ? undefined : parseMessageId(m.internetMessageId), ref: m.id }));
    return { exists, copies };
  },
  async makeFolder(mailbox, folder, message) {
    double.addMessage(mailbox, folder, message.bytes);
  },
  interruptions: () => [
    importFault('the connection is lost after importMime stored the message (no answer): looked up, not sent again', 'recovers', () => double.fail({ path: /importMime/, drop: 'after-store', times: 2 }), 3),
    importFault(
      'every importMime is stored but its answer lost, and every look-up answers 503, beyond the retries: those copies end unknown',
      'leaves-unknown',
      () => {
        double.fail({ path: /importMime/, drop: 'after-store', times: 400 });
        double.fail({ path: /internetMessageId/, status: 503, times: 400 });
      },
      1,
    ),
    importFault('every importMime and every look-up answers 500: unknown, and found absent afterwards', 'leaves-unknown', () => double.fail({ path: /importMime|internetMessageId/, status: 500, times: 400 }), 1),
  ],
});
