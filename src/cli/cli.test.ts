// The xip command as a user runs it: exit codes (0 verified, 1 rejected,
// 2 usage or I/O), plain and --json output, extract's guarantees.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runXip } from '../../test/support/cli.js';
import { buildContainer, tempDir, testIdentity } from '../xip/test-support/container.js';

let dir: string;
let good: string;
let tampered: string;
let trust: string;
let otherTrust: string;
const data = { 'items/a.json': '{"id":"a"}', 'attachments/ü b.txt': 'attachment' };

before(async () => {
  dir = await tempDir('xip-cli-');
  good = await buildContainer(join(dir, 'good.xip'), { data });
  tampered = await buildContainer(join(dir, 'tampered.xip'), { data, alterData: { 'items/a.json': '{"id":"b"}' } });
  trust = join(dir, 'ca.pem');
  writeFileSync(trust, testIdentity().issued.caCertificatePem);
  otherTrust = join(dir, 'other.pem');
  writeFileSync(otherTrust, testIdentity('other').issued.caCertificatePem);
});

describe('xip verify', () => {
  it('exit 0 and OK with the signer and the number of entries', async () => {
    const r = await runXip(['verify', good, '--trust', trust]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^OK: signed by CN=Test signer default, O=xip tests \(certificate sha256 [0-9a-f]{64}\); 2 data entries verified/);
  });

  it('--json: one object with signer, chain, validation time and its source, package and entries', async () => {
    const r = await runXip(['verify', good, '--trust', trust, '--json', '--at', '2027-01-01T00:00:00Z']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.ok, true);
    assert.deepEqual(Object.keys(o.signer), ['subject', 'sha256']);
    assert.equal(o.chain.length, 2);
    assert.equal(o.validationTime, '2027-01-01T00:00:00.000Z');
    assert.equal(o.validationTimeSource, 'caller');
    assert.equal(o.package.source, 'test');
    assert.deepEqual(o.entries.map((e: { name: string; size: number }) => [e.name, e.size]), [['items/a.json', 10], ['attachments/ü b.txt', 10]]);
    assert.match(o.entries[0].sha256, /^[0-9a-f]{64}$/);
  });

  it('exit 1 and CODE: sentence for a rejected container, with the entry at fault in --json', async () => {
    const r = await runXip(['verify', tampered, '--trust', trust]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^DIGEST_MISMATCH: An entry's digest differs/);
    const j = await runXip(['verify', tampered, '--trust', trust, '--json']);
    assert.equal(j.code, 1);
    const o = JSON.parse(j.stdout);
    assert.equal(o.ok, false);
    assert.equal(o.code, 'DIGEST_MISMATCH');
    assert.equal(o.entry, 'items/a.json');
    assert.equal(typeof o.message, 'string');
  });

  it('exit 1 CERT_UNTRUSTED with another trust store', async () => {
    const r = await runXip(['verify', good, '--trust', otherTrust]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^CERT_UNTRUSTED: /);
  });

  it('exit 2 for usage errors: no --trust, a bad --at, an unknown option, no file', async () => {
    for (const args of [['verify', good], ['verify', good, '--trust', trust, '--at', 'yesterday'], ['verify', good, '--trust', trust, '--bogus'], ['verify']]) {
      const r = await runXip(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.notEqual(r.stderr, '');
    }
  });

  it('exit 2 for I/O errors: a missing file, an unreadable trust store', async () => {
    const missing = await runXip(['verify', join(dir, 'nope.xip'), '--trust', trust, '--json']);
    assert.equal(missing.code, 2);
    assert.equal(JSON.parse(missing.stdout).code, 'IO_ERROR');
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const badTrust = await runXip(['verify', good, '--trust', notPem]);
    assert.equal(badTrust.code, 2);
    assert.match(badTrust.stderr, /^TRUST_INVALID: /);
  });
});

describe('xip inspect', () => {
  it('shows entries, manifest and signer without a trust decision', async () => {
    const r = await runXip(['inspect', tampered, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.zip.ok, true);
    assert.deepEqual(o.zip.entries.map((e: { name: string }) => e.name), ['mimetype', 'META-INF/ASiCManifest.xml', 'META-INF/signature.p7s', 'items/a.json', 'attachments/ü b.txt']);
    assert.equal(o.manifest.references.length, 2);
    assert.equal(o.signature.signer.subject, 'CN=Test signer default, O=xip tests');
    const plain = await runXip(['inspect', good]);
    assert.match(plain.stdout, /no trust decision/);
  });

  it('reports a broken ZIP as found', async () => {
    const junk = join(dir, 'junk.xip');
    writeFileSync(junk, 'PK\x03\x04 not really');
    const r = await runXip(['inspect', junk, '--json']);
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.stdout).zip.code, 'ZIP_MALFORMED');
  });
});

describe('xip extract', () => {
  it('writes the data entries under the destination after verification', async () => {
    const dest = join(dir, 'out-good');
    const r = await runXip(['extract', good, '-d', dest, '--trust', trust]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(dest, 'items', 'a.json'), 'utf8'), '{"id":"a"}');
    assert.equal(readFileSync(join(dest, 'attachments', 'ü b.txt'), 'utf8'), 'attachment');
    assert.deepEqual(readdirSync(dest).sort(), ['attachments', 'items']);
  });

  it('writes nothing when verification fails', async () => {
    const dest = join(dir, 'out-tampered');
    const r = await runXip(['extract', tampered, '-d', dest, '--trust', trust]);
    assert.equal(r.code, 1);
    assert.deepEqual(readdirSync(dest), []);
  });

  it('never overwrites an existing file, and then writes nothing at all', async () => {
    const dest = join(dir, 'out-existing');
    mkdirSync(join(dest, 'attachments'), { recursive: true });
    writeFileSync(join(dest, 'attachments', 'ü b.txt'), 'mine');
    const r = await runXip(['extract', good, '-d', dest, '--trust', trust]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^EXTRACT_TARGET_EXISTS/);
    assert.equal(readFileSync(join(dest, 'attachments', 'ü b.txt'), 'utf8'), 'mine');
    assert.equal(existsSync(join(dest, 'items')), false);
  });

  it('does not follow a symbolic link in the destination out of it', async () => {
    const dest = join(dir, 'out-link');
    const outside = join(dir, 'outside');
    mkdirSync(dest);
    mkdirSync(outside);
    symlinkSync(outside, join(dest, 'items'));
    const r = await runXip(['extract', good, '-d', dest, '--trust', trust]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^EXTRACT_OUTSIDE/);
    assert.deepEqual(readdirSync(outside), []);
  });
});

describe('xip demo', () => {
  it('sets up and runs a connector over three days of sample exports: messages under XIP_HOME, the tampered file rejected with its code; again, every copy a duplicate', async () => {
    const home = join(dir, 'demo-home');
    const r = await runXip(['demo'], { env: { XIP_HOME: home } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /rejected demosocial-\d{4}-\d{2}-\d{2}\.xip sha256:[0-9a-f]{64}: DIGEST_MISMATCH/);
    assert.match(r.stdout, /Items available from source\s+23\n\s*Items available for import\s+47\n\s*Imported\s+47\n/);
    assert.match(r.stdout, /unmapped user gus\.lind@corp\.example/);
    assert.equal(readdirSync(join(home, 'mail', 'ana.ruiz@corp.example', '.INBOX.XIP', 'cur')).length, 13);
    assert.ok(existsSync(join(home, 'xip.db')));
    const again = await runXip(['demo'], { env: { XIP_HOME: home } });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /Imported\s+0\n\s*Partially imported\s+0\n\s*Skipped as duplicates\s+47\n/);
    assert.match(again.stdout, /every copy was skipped as a duplicate/);
  });
});

describe('xip', () => {
  it('--help lists the commands and exit codes', async () => {
    const r = await runXip(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['verify', 'pack', 'extract', 'inspect', 'demo']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
    assert.match(r.stdout, /Exit codes/);
  });
});
