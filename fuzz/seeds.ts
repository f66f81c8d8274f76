// Where seeds come from: the interoperability corpus (files other projects
// made) and the project's own test builders. The corpus lives in
// test/fixtures/interop/; the shared folder beside a checkout is read only
// when the fixtures are not there (a working tree before they were copied).
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const INTEROP_CANDIDATES = [join(ROOT, 'test', 'fixtures', 'interop'), join(ROOT, '..', 'shared', 'interop')];

/** The interoperability corpus folder, or undefined when neither place has it. */
export function interopDir(): string | undefined {
  return INTEROP_CANDIDATES.find((d) => existsSync(join(d, 'containers')));
}

/** Every file of a folder of the interop corpus ("containers", "zip", "trust"), sorted by name. */
export async function interopFiles(sub: string): Promise<{ name: string; bytes: Buffer }[]> {
  const dir = interopDir();
  if (dir === undefined || !existsSync(join(dir, sub))) return [];
  const names = (await readdir(join(dir, sub))).sort();
  return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(dir, sub, name)) })));
}

/**
 * A scratch folder on tmpfs when the machine has one: the container target
 * writes every input to a file. Its name carries the process id, so that the
 * folders of runs that were killed (a worker stopped from outside never tears
 * down) are removed by the next run.
 */
export async function scratchDir(prefix: string): Promise<string> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  for (const name of await readdir(base)) {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length).split('-')[0]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) await rm(join(base, name), { recursive: true, force: true });
  }
  return mkdtemp(join(base, `${prefix}${process.pid}-`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Items as exporters write them (the README's and demo's examples, with the edge cases of xip-items.md §2). */
export const SAMPLE_ITEMS: readonly Record<string, unknown>[] = [
  {
    id: 'demo-000001',
    type: 'chat.message',
    sentAt: '2026-11-22T14:03:11.120+01:00',
    from: { name: 'Ana Ruiz', email: 'ana@corp.example', sourceId: 'u-991' },
    participants: [
      { name: 'Bo Chen', email: 'bo@corp.example', sourceId: 'u-104', role: 'to' },
      { name: 'Client Desk', email: 'desk@client.example', role: 'cc' },
      { sourceId: 'u-7', role: 'bcc' },
    ],
    conversation: { id: 'room-42', title: 'FX desk' },
    subject: 'EUR/CHF quote',
    body: { text: 'Can you quote 5m?', html: '<p>Can you quote 5m?</p>' },
    attachments: [{ path: 'attachments/quote.txt', name: 'quote.txt', contentType: 'text/plain' }],
    properties: { platform: 'DemoChat', deskId: 'FX-3', nested: { a: [1, 2, { b: null }] } },
  },
  {
    id: 'demo-000002',
    type: 'chat.message',
    sentAt: '2026-11-22T14:04:02Z',
    from: { name: 'Bo Chen', email: 'bo@corp.example' },
    participants: [{ name: 'Ana Ruiz', email: 'ana@corp.example', role: 'to' }],
    conversation: { id: 'room-42' },
    body: { text: 'Grüße — 0.9412 / 0.9418\r\n.\r\nfirm' },
  },
  {
    id: 'x/../ü\u0000\u202e',
    type: 'com.example.custom',
    sentAt: '2026-02-29T23:59:60-12:00',
    from: { sourceId: 'ext-1', name: '=?utf-8?B?w6k=?=' },
    Email: ['ana@corp.example', 'other@x.example'],
    subject: null,
    attachments: [
      { path: 'attachments/data.bin', name: 'data "1".bin', contentType: 'application/octet-stream; name="x"' },
      { path: 'attachments/quote.txt', name: 'Ünïcode name that is rather long and needs continuation lines.txt', contentType: 'text/plain; charset="utf-8"' },
    ],
    properties: { constructor: 'x', toString: 1 },
  },
];

/** Items only raw JSON can say: a "__proto__" key, integers past 2^53, duplicate keys, escapes. */
export const SAMPLE_RAW_JSON: readonly string[] = [
  '{"id":"raw-1","type":"post","sentAt":"2026-11-22T14:03:11+00:00","from":{"email":"a@b.example"},"properties":{"__proto__":{"x":1},"n":123456789012345678901234567890,"f":1e400,"id":"dup","id":"dup2"}}',
  '{"id":"raw-2\\u0000\\ud800","type":"message","sentAt":"2026-11-22T14:03:11.123456789-00:00","from":{"email":"\\u00e9@b.example","name":"a\\r\\nBcc: x@y"},"body":{"html":"<b>"}}',
];

export const SAMPLE_EML: readonly string[] = [
  'Message-ID: <m1@example>\r\nDate: Sun, 22 Nov 2026 14:03:11 +0100\r\nFrom: Ana <ana@corp.example>\r\nTo: Bo <bo@corp.example>, "Desk, Client" <desk@client.example>\r\nCc: undisclosed-recipients:;\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\nbody\r\n',
  'Message-Id: (comment) <"quoted local"@[127.0.0.1]>\nDate: 22 Nov 2026 14:03 -0000 (UTC)\nFrom: =?iso-8859-1?b?QW7h?= <ana@corp.example>\nBcc: x@y.example\nSubject: folded\n  subject line\n\n',
  'Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: a@b.example\r\n\r\n',
];

export const SAMPLE_DIRECTORY =
  '\uFEFFemail,name,aliases,litigationHold\r\n' +
  'ana@corp.example,Ana Ruiz,ana.ruiz@corp.example;ar@corp.example,TRUE\r\n' +
  'bo@corp.example,"Chen, Bo","bo.chen@corp.example",false\r\n' +
  '"desk@corp.example","Desk ""FX""",,false\n' +
  '\n' +
  'Ünï@corp.example,"multi\nline",ÜNÏ@corp.example,true\r';

export const SAMPLE_MAPPING = 'sourceId,mailbox\nu-991,ana@corp.example\n" u-104 ",BO.CHEN@corp.example\r\nslack:U01,desk@corp.example\n';
