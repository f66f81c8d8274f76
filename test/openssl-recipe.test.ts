// xip-format.md §6: what `xip pack` writes checks out with standard tools —
// unzip, `openssl cms -verify` over the manifest, and sha256 of each entry —
// for keys and certificates made by openssl itself (RSA, P-256, P-384).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runXip } from './support/cli.js';

const openssl = (cwd: string, ...args: string[]) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** A root CA and a signer it issued, by openssl, for one key type. */
function opensslPki(dir: string, keyArgs: string[]): void {
  const ext = join(dir, 'signer.ext');
  writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  openssl(dir, 'req', '-x509', '-new', ...keyArgs, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/O=Recipe Test/CN=Recipe Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl(dir, 'req', '-new', ...keyArgs, '-nodes', '-keyout', 'signer.key', '-out', 'signer.csr', '-subj', '/O=Recipe Test/CN=Recipe Signer');
  openssl(dir, 'x509', '-req', '-in', 'signer.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '4242', '-days', '30', '-extfile', ext, '-out', 'signer.pem');
}

const KEYS: Record<string, string[]> = {
  'RSA 2048': ['-newkey', 'rsa:2048'],
  'ECDSA P-256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'ECDSA P-384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
};

describe('the spec §6 recipe over what xip pack writes', () => {
  for (const [label, keyArgs] of Object.entries(KEYS)) {
    it(`unzip + openssl cms -verify + sha256 of each entry, ${label}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'xip-recipe-'));
      opensslPki(dir, keyArgs);
      const src = join(dir, 'src');
      mkdirSync(join(src, 'items', 'día 1'), { recursive: true });
      mkdirSync(join(src, 'attachments'), { recursive: true });
      writeFileSync(join(src, 'items', 'día 1', 'chat.ndjson'), '{"id":"a"}\n\n{"id":"b"}\r\n{"id":"c"}');
      writeFileSync(join(src, 'items', 'one.json'), '{"id":"d"}');
      writeFileSync(join(src, 'attachments', 'quote 100%.pdf'), Buffer.alloc(200_000, 'pdf '));
      writeFileSync(join(src, 'xip.json'), '{"source":"recipe"}');

      const packed = await runXip(['pack', src, '-o', join(dir, 'out.xip'), '--cert', join(dir, 'signer.pem'), '--key', join(dir, 'signer.key'), '--json']);
      assert.equal(packed.code, 0, packed.stderr + packed.stdout);
      const result = JSON.parse(packed.stdout) as { package: { source: string; items: number } };
      assert.equal(result.package.source, 'recipe');
      assert.equal(result.package.items, 4);

      execFileSync('unzip', ['-q', '-d', 'x', 'out.xip'], { cwd: dir });
      // The recipe itself, verbatim but for paths.
      openssl(dir, 'cms', '-verify', '-binary', '-inform', 'DER', '-purpose', 'any', '-in', 'x/META-INF/signature.p7s', '-content', 'x/META-INF/ASiCManifest.xml', '-CAfile', 'ca.pem', '-out', '/dev/null');

      const manifest = readFileSync(join(dir, 'x', 'META-INF', 'ASiCManifest.xml'), 'utf8');
      const refs = [...manifest.matchAll(/URI="([^"]+)"[^>]*>\s*<ds:DigestMethod[^>]*\/>\s*<ds:DigestValue>([^<]+)</g)];
      assert.equal(refs.length, 4);
      for (const [, uri, value] of refs) {
        const name = decodeURIComponent(uri!);
        const bytes = readFileSync(join(dir, 'x', ...name.split('/')));
        assert.equal(createHash('sha256').update(bytes).digest('base64'), value, name);
      }

      // And a manifest changed by one byte fails the same recipe.
      writeFileSync(join(dir, 'x', 'META-INF', 'ASiCManifest.xml'), manifest.replace('recipe', 'recipf'));
      assert.throws(() => openssl(dir, 'cms', '-verify', '-binary', '-inform', 'DER', '-purpose', 'any', '-in', 'x/META-INF/signature.p7s', '-content', 'x/META-INF/ASiCManifest.xml', '-CAfile', 'ca.pem', '-out', '/dev/null'));

      // Our own verifier agrees, trusting the openssl-made root.
      const verified = await runXip(['verify', join(dir, 'out.xip'), '--trust', join(dir, 'ca.pem')]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /^OK: signed by .*Recipe Signer.*; 4 data entries verified/);
    });
  }
});
