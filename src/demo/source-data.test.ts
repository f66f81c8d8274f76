// The connector demo's source data, checked with the project's own readers:
// the containers verify (but the tampered one) against the demo CA as
// `--trust` loads it, their items read back in the expected number, and the
// directory and mapping load and fan the items out to the expected copies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrust } from '../cli/trust-options.js';
import { XipError } from '../errors.js';
import { readItems, type Item } from '../items/index.js';
import { loadDirectory, loadMapping, mappingOptions, resolveMailboxes } from '../mapping/index.js';
import type { X509 } from '../xip/cms/index.js';
import { openVerifiedContainer } from '../xip/container.js';
import { verifyFile } from '../xip/verify.js';
import { writeDemoSource, type DemoSource } from './source-data.js';

const MiB = 1024 * 1024;

describe('writeDemoSource', () => {
  let dir: string;
  let demo: DemoSource;
  let trust: X509[];
  let elapsed: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xip-demo-source-'));
    const started = performance.now();
    demo = await writeDemoSource({ dir, today: new Date('2026-12-01T08:30:00Z') });
    elapsed = performance.now() - started;
    ({ trust } = await loadTrust({ trust: [demo.trustPem] }));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the PKI, the CSVs and the exports of the three days before today (UTC), fast', async (t) => {
    // About 1 s alone (most of it deflating and digesting the 12 MiB blotter);
    // the bound leaves room for a loaded machine running other tests.
    t.diagnostic(`written in ${Math.round(elapsed)} ms`);
    assert.ok(elapsed < 6000, `writing took ${Math.round(elapsed)} ms`);
    assert.deepEqual(demo.files.map((f) => [f.name, f.day, f.tampered, f.items]), [
      ['demochat-2026-11-28.xip', '2026-11-28', false, 6],
      ['demochat-2026-11-29.xip', '2026-11-29', false, 5],
      ['demochat-2026-11-30.xip', '2026-11-30', false, 5],
      ['democollab-2026-11-29.xip', '2026-11-29', false, 3],
      ['demosocial-2026-11-28.xip', '2026-11-28', false, 4],
      ['demosocial-2026-11-30.xip', '2026-11-30', true, 3],
    ]);
    assert.equal(new Set(demo.files.map((f) => f.day)).size, 3);
    assert.equal(demo.sourceDir, join(dir, 'source'));
    assert.deepEqual((await readdir(demo.sourceDir)).sort(), demo.files.map((f) => f.name).sort(), 'the source folder holds the exports only');
    assert.deepEqual((await readdir(dir)).sort(), ['directory.csv', 'mapping.csv', 'pki', 'source']);
    assert.deepEqual((await readdir(join(dir, 'pki'))).sort(), ['ca.key', 'ca.pem', 'signer.key', 'signer.pem']);
    assert.equal((await stat(join(dir, 'pki', 'ca.key'))).mode & 0o077, 0, 'the CA key is private to its owner');
  });

  it('every export verifies against the demo CA but the tampered one, which fails with expected.tamperedCode', async () => {
    for (const file of demo.files) {
      const path = join(demo.sourceDir, file.name);
      if (!file.tampered) {
        const report = await verifyFile(path, { trust });
        assert.equal(report.package?.items, file.items, file.name);
        continue;
      }
      await assert.rejects(verifyFile(path, { trust }), (e: unknown) => e instanceof XipError && e.code === demo.expected.tamperedCode, file.name);
    }
    assert.equal(demo.expected.tamperedCode, 'DIGEST_MISMATCH');
  });

  it('the shared document carries an attachment over 10 MiB', async () => {
    const collab = demo.files.find((f) => f.name.startsWith('democollab-'))!;
    const report = await verifyFile(join(demo.sourceDir, collab.name), { trust });
    const large = report.entries.filter((e) => e.size > 10 * MiB);
    assert.deepEqual(large.map((e) => [e.name, e.size]), [['attachments/2026-11-29/q4-trade-blotter.csv', 12 * MiB]]);
  });

  it('the directory and mapping load; the unmapped participant is in neither', async () => {
    const directory = loadDirectory(await readFile(demo.directoryCsv, 'utf8'), 'directory.csv');
    const mapping = loadMapping(await readFile(demo.mappingCsv, 'utf8'), 'mapping.csv', directory);
    assert.ok(directory.mailboxes.length >= 5 && directory.mailboxes.length <= 8, `${directory.mailboxes.length} users`);
    assert.ok(directory.mailboxes.every((m) => m.address.endsWith('@corp.example')));
    assert.equal(directory.mailboxes.filter((m) => !m.litigationHold).length, 1);
    assert.equal(directory.mailboxes.filter((m) => m.aliases.length > 0).length, 1);
    assert.equal(mapping.size, 1);
    assert.equal(directory.find(demo.expected.unmappedEmail), undefined);
  });

  it('the verified exports hold expected.itemsFromSource items, which fan out to expected.copies copies', async () => {
    const directory = loadDirectory(await readFile(demo.directoryCsv, 'utf8'), 'directory.csv');
    const options = mappingOptions({ directory, mapping: loadMapping(await readFile(demo.mappingCsv, 'utf8'), 'mapping.csv', directory) });
    const items: Item[] = [];
    for (const file of demo.files.filter((f) => !f.tampered)) {
      const container = await openVerifiedContainer(join(demo.sourceDir, file.name), { trust });
      try {
        for await (const result of readItems(container)) {
          assert.ok(result.ok, `${file.name}: ${result.ok ? '' : `${result.failure.code} ${result.failure.message}`}`);
          items.push(result.item);
        }
      } finally {
        await container.close();
      }
    }
    assert.equal(items.length, demo.expected.itemsFromSource);
    const resolutions = items.map((item) => resolveMailboxes(item, options));
    assert.ok(resolutions.every((r) => r.mailboxes.length > 0), 'every item reaches a mailbox: no ITEM_UNMAPPED, no catch-all needed');
    assert.equal(resolutions.reduce((n, r) => n + r.mailboxes.length, 0), demo.expected.copies);
    const mailboxes = new Set(resolutions.flatMap((r) => r.mailboxes));
    assert.ok(mailboxes.has('farid.haddad@corp.example'), 'the user mapped by source id only gets copies');
    assert.ok(resolutions.some((r) => r.unmapped.some((u) => u.email === demo.expected.unmappedEmail)));
    assert.ok(items.some((i) => i.kind === 'json' && i.attachments.length > 0 && i.type === 'document'));
  });
});
