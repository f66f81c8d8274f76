// Issue 8: what the `xip` command does with hostile input and careless
// arguments, as a user (or an attacker who controls a source) would find it.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runXip } from './support/cli.js';
import { buildContainer, tempDir, testIdentity, type TestIdentity } from '../src/xip/test-support/container.js';
import { packDirectory } from '../src/xip/pack.js';
import { XipError } from '../src/errors.js';

let dir: string;
before(async () => {
  dir = await tempDir('xip-hostile-cli-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

// What a terminal acts on instead of showing: C0, DEL, C1, bidi controls, line separators.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
/** An id that clears the screen, starts a CSI the 8-bit way, reverses the text and forges a line of its own. */
const HOSTILE = 'evil\u001b[2J\u001b[31mowned\u0007\u009b31m\u202eexe.txt\r\nOK: signed by a fake';

function assertNoRawControls(text: string, what: string): void {
  const m = RAW_CONTROL.exec(text);
  assert.equal(m, null, `${what} holds a raw U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')}: ${JSON.stringify(text.slice(0, 400))}`);
}

describe('fault 7: terminal escapes from input are printed as \\u escapes in every human-readable line', () => {
  let signed: string;
  let trust: string;
  let withBadItem: string;
  let users: string;
  before(async () => {
    const hostileSigner = testIdentity(HOSTILE);
    trust = join(dir, 'hostile-ca.pem');
    writeFileSync(trust, hostileSigner.issued.caCertificatePem);
    signed = await buildContainer(join(dir, 'hostile-signer.xip'), { identity: hostileSigner, data: { 'items/a.json': '{"id":"a"}' } });
    const good = { type: 'chat.message', sentAt: '2026-11-22T14:03:11Z', from: { email: 'ana@corp.example' }, participants: [{ email: 'bo@corp.example', role: 'to' }], body: { text: 'hi' } };
    const lines = [JSON.stringify({ ...good, id: 'fine' }), JSON.stringify({ ...good, id: HOSTILE, from: undefined })].join('\n') + '\n';
    withBadItem = await buildContainer(join(dir, 'hostile-item.xip'), { identity: hostileSigner, data: { 'items/chat.ndjson': lines } });
    users = join(dir, 'users.csv');
    writeFileSync(users, 'email,name,aliases,litigationHold\nana@corp.example,Ana,,false\nbo@corp.example,Bo,,false\n');
  });

  it('verify and extract: a signer subject with ESC, C1 and a bidi override is escaped; --json keeps it exactly', async () => {
    const r = await runXip(['verify', signed, '--trust', trust]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertNoRawControls(r.stdout, 'verify');
    assert.ok(r.stdout.includes('evil\\u001b[2J\\u001b[31mowned\\u0007\\u009b31m\\u202eexe.txt\\u000d\\u000aOK: signed by a fake'), r.stdout);
    assert.equal(r.stdout.split('\n').length, 2, 'one line and its end: the subject forged no line');
    const j = await runXip(['verify', signed, '--trust', trust, '--json']);
    assert.equal(JSON.parse(j.stdout).signer.subject, `CN=Test signer ${HOSTILE}, O=xip tests`);
    assertNoRawControls(j.stdout, 'verify --json');
    const x = await runXip(['extract', signed, '-d', join(dir, 'extracted'), '--trust', trust]);
    assert.equal(x.code, 0, x.stdout + x.stderr);
    assertNoRawControls(x.stdout, 'extract');
  });

  it('inspect: the subject of a certificate nobody trusted yet is escaped; --json keeps it exactly', async () => {
    const r = await runXip(['inspect', signed]);
    assert.equal(r.code, 0, r.stderr);
    assertNoRawControls(r.stdout, 'inspect');
    assert.match(r.stdout, /signer: CN=Test signer evil\\u001b\[2J/);
    const j = await runXip(['inspect', signed, '--json']);
    assert.equal(JSON.parse(j.stdout).signature.signer.subject, `CN=Test signer ${HOSTILE}, O=xip tests`);
  });

  it('convert: the failure line of an item with a hostile id is escaped, and is one line', async () => {
    const r = await runXip(['convert', withBadItem, '--trust', trust, '-o', join(dir, 'eml')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assertNoRawControls(r.stdout + r.stderr, 'convert');
    const failure = r.stdout.split('\n').filter((l) => l.startsWith('ITEM_INVALID'));
    assert.equal(failure.length, 1, r.stdout);
    assert.ok(failure[0]!.includes('(id evil\\u001b[2J'), failure[0]);
    assert.ok(!r.stdout.split('\n').some((l) => l.startsWith('OK: signed by a fake')), r.stdout);
    const j = await runXip(['convert', withBadItem, '--trust', trust, '-o', join(dir, 'eml-json'), '--json']);
    assert.equal(JSON.parse(j.stdout).failed[0].id, HOSTILE);
  });

  it("import: the run log's failure line is escaped and forges no row; --json keeps the id exactly", async () => {
    const common = ['--trust', trust, '--directory', users, '--to', `maildir:${join(dir, 'mail')}`, '--state', join(dir, 'state.db')];
    const r = await runXip(['import', withBadItem, ...common]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assertNoRawControls(r.stdout + r.stderr, 'import');
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('failed '));
    assert.equal(failed.length, 2, r.stdout);
    assert.match(failed[1]!, /^failed evil\\u001b\[2J\\u001b\[31mowned\\u0007\\u009b31m\\u202eexe\.txt\\u000d\\u000aOK: signed by a fake: ITEM_INVALID: /);
    assert.ok(!r.stdout.split('\n').some((l) => l.startsWith('OK: signed by a fake')), r.stdout);
    const j = await runXip(['import', withBadItem, ...common, '--json']);
    assert.equal(JSON.parse(j.stdout).failures[0].itemId, HOSTILE);
  });

  it('error lines: a file name and an --at value with escapes are escaped on stderr and in --json exact', async () => {
    const name = join(dir, 'x\u001b[2J\u202e.xip');
    const r = await runXip(['verify', name, '--trust', trust]);
    assert.equal(r.code, 2);
    assertNoRawControls(r.stderr, 'the IO_ERROR line');
    assert.match(r.stderr, /^IO_ERROR: .*x\\u001b\[2J\\u202e\.xip/);
    const j = await runXip(['verify', name, '--trust', trust, '--json']);
    assert.ok(JSON.parse(j.stdout).message.includes('x\u001b[2J\u202e.xip'));
    const at = await runXip(['verify', signed, '--trust', trust, '--at', '\u001b[2J\u009b0m']);
    assert.equal(at.code, 2);
    assertNoRawControls(at.stderr, 'the USAGE line');
    assert.match(at.stderr, /^USAGE: .*--at "\\u001b\[2J\\u009b0m"/);
  });

  it('pack: a source name from xip.json with escapes is escaped', async () => {
    const src = join(dir, 'pack-src');
    mkdirSync(join(src, 'items'), { recursive: true });
    writeFileSync(join(src, 'items', 'a.json'), '{"id":"a"}');
    writeFileSync(join(src, 'xip.json'), JSON.stringify({ source: `src${HOSTILE}` }));
    const id = testIdentity();
    const cert = join(dir, 'pack-signer.pem');
    const key = join(dir, 'pack-signer.key');
    writeFileSync(cert, id.issued.certificatePem);
    writeFileSync(key, id.issued.privateKeyPem);
    const r = await runXip(['pack', src, '-o', join(dir, 'packed-hostile.xip'), '--cert', cert, '--key', key]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assertNoRawControls(r.stdout + r.stderr, 'pack');
    assert.match(r.stdout, /items from srcevil\\u001b\[2J/);
  });
});

describe('fault 2: xip demo --dir never removes a file it did not make', () => {
  it('--dir . in a folder with files is refused, and every file stays', async () => {
    const cwd = join(dir, 'work-folder');
    mkdirSync(join(cwd, 'src'), { recursive: true });
    writeFileSync(join(cwd, 'notes.txt'), 'mine');
    writeFileSync(join(cwd, 'src', 'main.c'), 'int main;');
    const r = await runXip(['demo', '--dir', '.'], { cwd, env: { XIP_HOME: join(dir, 'home-dot') } });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^DEMO_DIR_IN_USE: .*is not empty and was not made by xip demo/);
    assert.equal(readFileSync(join(cwd, 'notes.txt'), 'utf8'), 'mine');
    assert.equal(readFileSync(join(cwd, 'src', 'main.c'), 'utf8'), 'int main;');
  });

  it('--dir naming a file is refused, and the file stays', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'mine');
    const r = await runXip(['demo', '--dir', file], { env: { XIP_HOME: join(dir, 'home-file') } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^DEMO_DIR_IN_USE: .*is not a folder/);
    assert.equal(readFileSync(file, 'utf8'), 'mine');
  });

  it("runs again in its own folder, but a file put there since (new, or in place of the demo's own) stays and is named", async () => {
    const out = join(dir, 'demo-again');
    const env = { XIP_HOME: join(dir, 'home-again') };
    assert.equal((await runXip(['demo', '--dir', out], { env })).code, 0);
    const again = await runXip(['demo', '--dir', out], { env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    writeFileSync(join(out, 'source', 'mine.txt'), 'mine');
    rmSync(join(out, 'directory.csv'));
    writeFileSync(join(out, 'directory.csv'), 'my own directory');
    const r = await runXip(['demo', '--dir', out], { env });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^DEMO_DIR_IN_USE: .*holds files the demo did not make: (source\/mine\.txt, directory\.csv|directory\.csv, source\/mine\.txt)/);
    assert.equal(readFileSync(join(out, 'source', 'mine.txt'), 'utf8'), 'mine');
    assert.equal(readFileSync(join(out, 'directory.csv'), 'utf8'), 'my own directory');
    assert.equal(existsSync(join(out, 'mapping.csv')), false, "the demo's own files were removed");
  });

  it('a marker that lists files the demo did not make removes none of them', async () => {
    const out = join(dir, 'forged');
    mkdirSync(out);
    writeFileSync(join(out, 'precious.txt'), 'mine');
    writeFileSync(join(out, '.xip-demo.json'), JSON.stringify({ madeBy: 'xip demo', files: [{ path: 'precious.txt', id: '0:0' }, { path: '../outside', id: '0:0' }], dirs: ['..', '.'] }));
    const r = await runXip(['demo', '--dir', out], { env: { XIP_HOME: join(dir, 'home-forged') } });
    assert.equal(r.code, 2);
    assert.equal(readFileSync(join(out, 'precious.txt'), 'utf8'), 'mine');
  });
});

describe('the demo prints commands that work when pasted', () => {
  it('every "$ " line runs in a shell from where the demo ran: exit 0, the tampered copy 1; the demo then runs again', async () => {
    const cwd = join(dir, 'paste here');
    mkdirSync(cwd);
    const env = { XIP_HOME: join(cwd, 'home of demo') };
    const demo = await runXip(['demo', '--dir', 'demo out'], { cwd, env });
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    const commands = demo.stdout.split('\n').flatMap((l) => /^\s*\$ (.+)$/.exec(l)?.[1] ?? []);
    assert.ok(commands.some((c) => / connector run demo$/.test(c)), demo.stdout);
    assert.ok(commands.some((c) => / verify .*demosocial-.* --trust /.test(c)), demo.stdout);
    assert.ok(commands.length >= 6, demo.stdout);
    const sh = promisify(execFile);
    for (const command of commands) {
      const expected = / verify /.test(command) ? 1 : 0; // the tampered export
      const code = await sh('sh', ['-c', command], { cwd, env: { ...process.env, ...env, TMPDIR: dir } }).then(
        () => 0,
        (e: { code?: number }) => e.code ?? -1,
      );
      assert.equal(code, expected, command);
    }
    const again = await runXip(['demo', '--dir', 'demo out'], { cwd, env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });
});

describe('fault 9: xip pack -o replaces nothing but a regular file, and that only with --force; it refuses a certificate verification would reject', () => {
  let src: string;
  const signer = (id: TestIdentity, name: string): string[] => {
    const cert = join(dir, `${name}.pem`);
    const key = join(dir, `${name}.key`);
    writeFileSync(cert, id.issued.certificatePem);
    writeFileSync(key, id.issued.privateKeyPem);
    return ['--cert', cert, '--key', key];
  };
  let good: string[];
  let trust: string;
  before(() => {
    src = join(dir, 'pack-9');
    mkdirSync(join(src, 'items'), { recursive: true });
    writeFileSync(join(src, 'items', 'a.json'), '{"id":"a"}');
    good = signer(testIdentity(), 'signer-9');
    trust = join(dir, 'ca-9.pem');
    writeFileSync(trust, testIdentity().issued.caCertificatePem);
  });

  it('an existing file is PACK_OUTPUT_EXISTS and kept; with --force it is replaced by a container that verifies', async () => {
    const out = join(dir, 'existing.xip');
    writeFileSync(out, 'my report');
    const r = await runXip(['pack', src, '-o', out, ...good, '--source', 's']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^PACK_OUTPUT_EXISTS: .*existing\.xip is a file already there/);
    assert.equal(readFileSync(out, 'utf8'), 'my report');
    const forced = await runXip(['pack', src, '-o', out, ...good, '--source', 's', '--force']);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.equal((await runXip(['verify', out, '--trust', trust])).code, 0);
  });

  it('a device node, a FIFO, a folder or a symbolic link is never replaced, even with --force', async (t) => {
    const targets: [string, () => void, (p: string) => boolean][] = [
      ['fifo', () => execFileSync('mkfifo', [join(dir, 'fifo')]), (p) => lstatSync(p).isFIFO()],
      ['folder', () => mkdirSync(join(dir, 'folder')), (p) => lstatSync(p).isDirectory()],
      ['link', () => symlinkSync(join(dir, 'link-target'), join(dir, 'link')), (p) => lstatSync(p).isSymbolicLink() && readlinkSync(p) === join(dir, 'link-target')],
    ];
    if (process.getuid?.() === 0) targets.push(['device', () => execFileSync('mknod', [join(dir, 'device'), 'c', '1', '3']), (p) => lstatSync(p).isCharacterDevice()]);
    else t.diagnostic('not root: no device node made');
    writeFileSync(join(dir, 'link-target'), 'kept');
    for (const [name, make, still] of targets) {
      make();
      const path = join(dir, name);
      const r = await runXip(['pack', src, '-o', path, ...good, '--source', 's', '--force']);
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^PACK_OUTPUT_EXISTS: .*, which is never replaced\)$/m, name);
      assert.ok(still(path), `${name} is still there as it was`);
    }
    assert.equal(readFileSync(join(dir, 'link-target'), 'utf8'), 'kept');
  });

  it('a symbolic link at the temporary name is neither followed nor removed', async () => {
    const out = join(dir, 'planted.xip');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const temp = `${out}.partial-${process.pid}`;
    symlinkSync(victim, temp);
    const id = testIdentity();
    await assert.rejects(packDirectory({ dir: src, output: out, certificate: id.certificate, privateKey: id.privateKey, source: 's' }), (e: unknown) => e instanceof XipError && e.code === 'IO_ERROR');
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.equal(readlinkSync(temp), victim);
    assert.equal(existsSync(out), false);
  });

  it('CERT_EXPIRED, CERT_NOT_YET_VALID and CERT_USAGE as verification would say, exit 1 and no file; --allow-invalid-cert signs with a warning', async () => {
    const year = 365 * 86_400_000;
    const cases: [string, TestIdentity][] = [
      ['CERT_EXPIRED', testIdentity('expired', { notBefore: new Date(Date.now() - 2 * year), days: 365 })],
      ['CERT_NOT_YET_VALID', testIdentity('future', { notBefore: new Date(Date.now() + year) })],
      ['CERT_USAGE', testIdentity('encipherment', { signerUsage: 'encipherment' })],
    ];
    for (const [code, id] of cases) {
      const out = join(dir, `${code}.xip`);
      const args = ['pack', src, '-o', out, ...signer(id, code), '--source', 's'];
      const r = await runXip(args);
      assert.equal(r.code, 1, `${code}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^${code}: .*--allow-invalid-cert signs anyway`));
      assert.equal(existsSync(out), false);
      const anyway = await runXip([...args, '--allow-invalid-cert']);
      assert.equal(anyway.code, 0, anyway.stdout + anyway.stderr);
      assert.match(anyway.stderr, new RegExp(`^warning: ${code}: .*verification will reject this container`));
      const trustIt = join(dir, `${code}-ca.pem`);
      writeFileSync(trustIt, id.issued.caCertificatePem);
      const verified = await runXip(['verify', out, '--trust', trustIt]);
      assert.match(verified.stdout, new RegExp(`^${code}: `), 'the code verification gives is the one pack gave');
    }
  });
});

describe('fault 10: the CLI names a system error once and shortens long paths in its messages', () => {
  it('a 64 KB path: "lstat <start>…<end> (N characters): ENAMETOOLONG (name too long)", not the code twice and the whole path', async () => {
    const long = join(dir, 'a/'.repeat(32_000));
    const env = { XIP_HOME: join(dir, 'home-long') };
    for (const args of [['demo', '--dir', long], ['verify', join(dir, 'x.xip'), '--trust', long]]) {
      const r = await runXip(args, { env });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
      assert.ok(r.stderr.length < 600, `${r.stderr.length} characters: ${r.stderr.slice(0, 300)}`);
      assert.equal(r.stderr.match(/ENAMETOOLONG/g)?.length, 1, r.stderr);
      assert.match(r.stderr, /\/a\/a\/?…\/?a\/a[^ ]* \(\d+ characters\)/);
      const j = await runXip([...args, ...(args[0] === 'verify' ? ['--json'] : [])], { env });
      if (args[0] === 'verify') assert.equal(JSON.parse(j.stdout).code, 'IO_ERROR');
    }
    const demo = await runXip(['demo', '--dir', long], { env });
    assert.match(demo.stderr, /^IO_ERROR: .*\(lstat .*: ENAMETOOLONG \(name too long\)\)$/m);
  });

  it('a limit beyond 2^53 is refused, not rounded', async () => {
    const ca = join(dir, 'limit-ca.pem');
    writeFileSync(ca, testIdentity().issued.caCertificatePem);
    const r = await runXip(['verify', join(dir, 'x.xip'), '--trust', ca, '--max-entries', '99999999999999999999']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^USAGE: .*--max-entries must be a whole number from 0 to 9007199254740991, got "99999999999999999999"/);
  });
});
