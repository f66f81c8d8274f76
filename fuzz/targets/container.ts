// The container reader (src/xip/zip/ and the whole verification of
// src/xip/verify.ts, through extract.ts): the first code to see a file from
// outside. Each input is written to a file in a sandbox folder and
//   1. opened with openZip, every entry read whole (up to 1 MiB): it fails
//      only with a code of xip-format.md §5;
//   2. extracted (verify all five steps, then place the files) into a fresh
//      destination inside the sandbox: it succeeds or fails with a code of §5
//      or an extraction code;
//   3. the sandbox is walked: nothing but the input file and the destination
//      exists, the destination holds nothing after a failure, and after a
//      success exactly the verified entries with the verified bytes, and no
//      staging folder is left behind (no escape, all or nothing).
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { XIP_CODES, type ErrorCode } from '../../src/errors.js';
import { resolveZipLimits } from '../../src/limits.js';
import { parseCertificates, type X509 } from '../../src/xip/cms/index.js';
import { extractFile } from '../../src/xip/extract.js';
import { openZip } from '../../src/xip/zip/reader.js';
import { buildContainer, testIdentity } from '../../src/xip/test-support/container.js';
import { yazlZip } from '../../src/xip/zip/test-support/files.js';
import { buildZip } from '../../src/xip/zip/test-support/zip-builder.js';
import { codedOutcome, codes, FuzzViolation, type Target } from '../target.js';
import { interopFiles, removeDir, SAMPLE_EML, SAMPLE_ITEMS, scratchDir } from '../seeds.js';

const READER = codes(...(Object.keys(XIP_CODES) as ErrorCode[]));
const EXTRACT = codes(...(Object.keys(XIP_CODES) as ErrorCode[]), 'EXTRACT_TARGET_EXISTS', 'EXTRACT_OUTSIDE', 'IO_ERROR');
/** The DSS test PKI of the interop corpus is valid then, and so is the fuzz identity (made valid 2019–2029). */
const AT = new Date('2019-07-30T12:00:00Z');

/** Files under `dir`, as relative paths with "/"; directories end with "/". */
function walk(dir: string, root = dir, out: string[] = []): string[] {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, d.name);
    const rel = relative(root, path).split(sep).join('/');
    if (d.isDirectory()) {
      out.push(rel + '/');
      walk(path, root, out);
    } else out.push(rel);
  }
  return out;
}

async function builtSeeds(work: string): Promise<Buffer[]> {
  const identity = fuzzIdentity();
  const specs: Parameters<typeof buildContainer>[1][] = [
    {
      identity,
      data: {
        'items/chat.ndjson': SAMPLE_ITEMS.map((i) => JSON.stringify(i)).join('\n') + '\n',
        'items/mail/m.eml': SAMPLE_EML[0]!,
        'attachments/quote.txt': 'EUR/CHF 0.9412\r\n',
        'attachments/data.bin': Buffer.alloc(3000, 7),
        'xip.json': '{"source":"chat"}',
      },
    },
    { identity, digestAlgorithm: 'sha512', package: null, data: { 'a/b/c/d.txt': 'deep', 'ü ä/%41.txt': 'names', 'z.txt': '' } },
    { identity, mimetypeLast: true, data: { 'one.txt': 'x'.repeat(5000) } },
  ];
  const out: Buffer[] = [];
  for (const [i, spec] of specs.entries()) {
    const path = join(work, `seed-${i}.xip`);
    await buildContainer(path, spec);
    out.push(await readFile(path));
  }
  out.push(
    await yazlZip([
      { name: 'mimetype', data: 'application/vnd.etsi.asic-e+zip' },
      { name: 'dir/', directory: true },
      { name: 'dir/streamed.txt', data: 'streamed with a data descriptor', stream: true, compress: true },
      { name: 'big.txt', data: 'y'.repeat(70_000), compress: true, forceZip64Format: true },
    ], { forceZip64Format: true }),
    buildZip({ entries: [{ name: 'mimetype', data: 'application/vnd.etsi.asic-e+zip' }, { name: 'd.txt', data: 'descriptor', method: 8, descriptor: {} }] }),
    buildZip({ entries: [{ name: 'z64.txt', data: 'zip64', zip64: true }], zip64: true }),
  );
  return out;
}

const DICTIONARY: readonly (string | Buffer)[] = [
  'PK\x03\x04', 'PK\x01\x02', 'PK\x05\x06', 'PK\x06\x06', 'PK\x06\x07', 'PK\x07\x08', '\x01\x00\x1c\x00', '\x0a\x00', '\x75\x70', 'mimetype',
  'application/vnd.etsi.asic-e+zip', 'META-INF/', 'META-INF/ASiCManifest.xml', 'META-INF/signature.p7s', 'META-INF/manifest.xml', '../', '/', '\\', 'C:',
  'a/', '.', '..', '\u00e9', Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0xaf]), '\x00',
];

export interface Sandbox {
  /** The trust store: the fuzz identity's CA and the interop corpus's CAs. */
  readonly trust: readonly X509[];
  /** Steps 1–3 of the header comment on one container's bytes; the outcome of the reader and of the extraction. */
  check(bytes: Buffer): Promise<string>;
  teardown(): Promise<void>;
}

/** The identity that signs the built seeds and the `signed` target's containers: valid 2019–2029, so also at AT. */
export function fuzzIdentity() {
  return testIdentity('fuzz', { notBefore: new Date('2019-01-01T00:00:00Z'), days: 3650 });
}

export async function createSandbox(): Promise<Sandbox & { root: string }> {
  const root = await scratchDir('xip-fuzz-container-');
  // Three empty levels above the sandbox, so that a path that climbs out of the destination lands where it is seen.
  const levels = [root, join(root, 'l1'), join(root, 'l1', 'l2')];
  const box = join(root, 'l1', 'l2', 'box');
  const input = join(box, 'input.xip');
  const dest = join(box, 'out');
  const trust: X509[] = [...fuzzIdentity().trust];
  for (const { name, bytes } of await interopFiles('trust')) trust.push(...parseCertificates(bytes, name));
  mkdirSync(levels[2]!, { recursive: true });
  const onlyChild = (dir: string, child: string): void => {
    const names = readdirSync(dir);
    if (names.length !== 1 || names[0] !== child) throw new FuzzViolation('escape', `${dir} holds ${JSON.stringify(names)}, expected only ${child}`);
  };
  const limits = resolveZipLimits();

  return {
    root,
    trust,
    async check(bytes: Buffer): Promise<string> {
      rmSync(box, { recursive: true, force: true });
      mkdirSync(box);
      writeFileSync(input, bytes);

      // 1. The ZIP reader alone, every entry read.
      let zipOutcome = 'ok';
      const handle = await open(input, 'r');
      try {
        const archive = await openZip(handle, limits);
        for (const entry of archive.entries) if (!entry.isDirectory && entry.uncompressedSize <= 1024 * 1024) await archive.readEntry(entry, 1024 * 1024);
      } catch (e) {
        zipOutcome = codedOutcome(e, READER);
      } finally {
        await handle.close();
      }

      // 2. Verification and extraction.
      let written: { name: string; sha256: string }[] | undefined;
      let extractOutcome = 'ok';
      try {
        const result = await extractFile(input, { dest, trust, at: AT });
        written = result.report.entries.map((e) => ({ name: e.name, sha256: e.sha256 }));
      } catch (e) {
        extractOutcome = codedOutcome(e, EXTRACT);
      }

      // 3. Nothing escaped, nothing half-done.
      onlyChild(levels[0]!, 'l1');
      onlyChild(levels[1]!, 'l2');
      onlyChild(levels[2]!, 'box');
      const inBox = readdirSync(box).sort();
      const expectedBox = ['input.xip', 'out'];
      if (inBox.some((n) => !expectedBox.includes(n))) throw new FuzzViolation('escape', `box/ holds ${JSON.stringify(inBox)}`);
      if (!lstatSync(input).isFile() || !readFileSync(input).equals(bytes)) throw new FuzzViolation('escape', 'the input file was changed');
      const files = inBox.includes('out') ? walk(dest) : [];
      if (written === undefined) {
        if (files.length > 0) throw new FuzzViolation('partial', `a failed extraction (${extractOutcome}) left ${JSON.stringify(files.slice(0, 10))}`);
      } else {
        const names = files.filter((f) => !f.endsWith('/')).sort();
        const want = written.map((w) => w.name).sort();
        if (JSON.stringify(names) !== JSON.stringify(want)) throw new FuzzViolation('extract', `extracted ${JSON.stringify(names)}, verified ${JSON.stringify(want)}`);
        // Every folder is one an entry needs; any other (an empty staging folder, say) was left behind. An entry may
        // itself be named ".xip-extract-x/a.txt": only the staging folder's random name is the extractor's.
        const needed = new Set(want.flatMap((n) => n.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/') + '/')));
        const stray = files.filter((f) => f.endsWith('/') && !needed.has(f));
        if (stray.length > 0) throw new FuzzViolation('leftover', `folders no entry needs were left: ${JSON.stringify(stray.slice(0, 10))}`);
        for (const w of written) {
          const got = createHash('sha256').update(readFileSync(join(dest, ...w.name.split('/')))).digest('hex');
          if (got !== w.sha256) throw new FuzzViolation('extract', `"${w.name}" on disk is not the verified bytes`);
        }
      }
      return `${zipOutcome}|${extractOutcome}`;
    },
    async teardown() {
      await removeDir(root);
    },
  };
}

export const containerTarget: Target = {
  name: 'container',
  description: 'openZip + read every entry, then extractFile into a sandbox (all five verification steps) and check nothing escaped',
  maxLength: 1024 * 1024,
  dictionary: DICTIONARY,
  async setup() {
    const sandbox = await createSandbox();
    const work = join(sandbox.root, 'seeds');
    await mkdir(work);
    const seeds = [
      ...(await interopFiles('containers')).map((f) => f.bytes),
      ...(await interopFiles('zip')).map((f) => f.bytes),
      ...(await builtSeeds(work)),
    ];
    rmSync(work, { recursive: true });
    return { seeds, run: (bytes: Buffer) => sandbox.check(bytes), teardown: () => sandbox.teardown() };
  },
};
