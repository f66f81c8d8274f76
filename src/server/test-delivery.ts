// The wizard's "Test delivery" (POST /api/wizard/delivery): one small
// message into one mailbox's folder, through the target a connector with
// this configuration would use (home/wiring.ts: targetSpec, then the
// delivery adapters' createTarget, as a run builds it), so that a wrong
// address, password or mailbox shows now rather than at the first run.
//
// The message says what it is (From xip-connector, Subject "xip-connector
// test delivery") and who asked for it when; its Message-ID is new each
// time, so a second test is a second message, never a duplicate the target
// skips. A copy that is not delivered is an error with the target's own
// code (MAILBOX_NOT_FOUND, TARGET_AUTH_FAILED, TARGET_UNAVAILABLE, …),
// whose status errors.ts maps.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createTarget, type OutgoingMessage, type TargetSpec } from '../delivery/index.js';
import { XipError, type ErrorCode } from '../errors.js';
import { formatRfc5322, parseRfc3339 } from '../items/dates.js';
import { encodeText } from '../message/encoding.js';
import { field } from '../message/headers.js';

export const TEST_SUBJECT = 'xip-connector test delivery';
export const TEST_FROM = 'xip-connector <xip-connector@xip.invalid>';

export interface TestDelivery {
  readonly mailbox: string;
  readonly folder: string;
  readonly messageId: string;
  /** Where the target stored it (Maildir "folder/cur/file", IMAP "uidvalidity:uid", Graph the message id). */
  readonly ref: string;
}

/** The test message: CRLF lines, the text quoted-printable or base64 (message/encoding.ts). `mailbox` is an address (ADDRESS: no space, CR or LF). */
export function testMessage(mailbox: string, folder: string, actor: string, at: Date): OutgoingMessage {
  const messageId = `<xip-test-${randomUUID()}@xip.invalid>`;
  const when = at.toISOString();
  const body = encodeText(
    `This message was delivered by xip-connector to check a connector's destination before it is saved.\n\n` +
      `Asked for by: ${actor}\nAt: ${when}\nMailbox: ${mailbox}\nFolder: ${folder}\n\nIt holds nothing else and may be deleted.\n`,
  );
  const head =
    field('From', TEST_FROM) +
    field('To', `<${mailbox}>`) +
    field('Subject', TEST_SUBJECT) +
    field('Date', formatRfc5322(parseRfc3339(when)!)) +
    field('Message-ID', messageId) +
    field('MIME-Version', '1.0') +
    field('Content-Type', 'text/plain; charset=utf-8') +
    field('Content-Transfer-Encoding', body.encoding) +
    '\r\n';
  const bytes = Buffer.concat([Buffer.from(head, 'utf8'), body.data]);
  return { messageId, size: bytes.length, internalDate: at, open: () => Readable.from([bytes]) };
}

/** Delivers the test message into mailbox/folder of the target; throws the target's code when it is not delivered. */
export async function deliverTest(spec: TargetSpec, request: { mailbox: string; folder: string; actor: string; at: Date }): Promise<TestDelivery> {
  const { mailbox, folder } = request;
  const message = testMessage(mailbox, folder, request.actor, request.at);
  const target = await createTarget(spec);
  try {
    const [outcome] = await target.deliverBatch(mailbox, folder, [message]);
    if (!outcome) throw new XipError('TARGET_UNAVAILABLE', `${spec.description} answered nothing for the test message`);
    if (outcome.status !== 'delivered') {
      const maybe = outcome.status === 'unknown' ? ' (it may have been stored nonetheless)' : '';
      throw new XipError(outcome.code satisfies ErrorCode, `${outcome.reason}${maybe}`);
    }
    return { mailbox, folder, messageId: message.messageId, ref: outcome.ref };
  } finally {
    await target.close().catch(() => undefined);
  }
}
