// Test messages as plain CRLF strings with a Message-ID and a Date header,
// wrapped as the OutgoingMessage the delivery port takes.
import { Readable } from 'node:stream';
import type { OutgoingMessage } from '../../src/delivery/port.js';

export interface TestMessageOptions {
  /** Unique part of the Message-ID: "<id@xip.test>". */
  readonly id: string;
  readonly date?: Date;
  readonly subject?: string;
  /** Body octets beyond the headers (repeated "x" lines), to make a message of a given size. */
  readonly bodyBytes?: number;
}

export interface TestMessage extends OutgoingMessage {
  readonly bytes: Buffer;
  /** How many times open() was called. */
  readonly opens: number;
}

export function messageBytes(o: TestMessageOptions): Buffer {
  const date = o.date ?? new Date('2026-11-22T13:03:11Z');
  const lines = [
    `Message-ID: <${o.id}@xip.test>`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `From: "Ana Ruiz" <ana@corp.example>`,
    `To: bo@corp.example`,
    `Subject: ${o.subject ?? `test ${o.id}`}`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=utf-8`,
    ``,
    `Hello from ${o.id}.`,
  ];
  let body = lines.join('\r\n') + '\r\n';
  const extra = o.bodyBytes ?? 0;
  for (let n = 0; n < extra; n += 78) body += 'x'.repeat(Math.min(76, Math.max(0, extra - n - 2))) + '\r\n';
  return Buffer.from(body);
}

export function testMessage(o: TestMessageOptions): TestMessage {
  const bytes = messageBytes(o);
  let opens = 0;
  return {
    messageId: `<${o.id}@xip.test>`,
    size: bytes.length,
    internalDate: o.date ?? new Date('2026-11-22T13:03:11Z'),
    bytes,
    get opens() {
      return opens;
    },
    open() {
      opens++;
      return Readable.from([bytes]);
    },
  };
}

/** n messages "<prefix>-<i>", each a second apart from `start`. */
export function testMessages(prefix: string, n: number, start = new Date('2026-11-22T13:00:00Z'), bodyBytes = 0): TestMessage[] {
  return Array.from({ length: n }, (_, i) => testMessage({ id: `${prefix}-${i}`, date: new Date(start.getTime() + i * 1000), bodyBytes }));
}
