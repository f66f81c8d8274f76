// Runs one library operation in a fresh process and prints its result with
// the process's peak resident memory (maxRSS), for memory bounds that must be
// measured on the operation alone.
import { readFileSync } from 'node:fs';
import { parseCertificates } from '../../src/xip/cms/index.js';
import { extractFile } from '../../src/xip/extract.js';
import { verifyFile } from '../../src/xip/verify.js';

const [op, file, trustPath, dest] = process.argv.slice(2);
const trust = parseCertificates(readFileSync(trustPath!), trustPath!);
const report = op === 'extract' ? (await extractFile(file!, { trust, dest: dest! })).report : await verifyFile(file!, { trust });
process.stdout.write(JSON.stringify({ entries: report.entries, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
