// Runs the built `xip` command in this process and prints, on the last line,
// its exit code, wall time and peak RSS, so that the bench measures the
// import process alone (no bench bookkeeping, no tsx).
import { main } from '../dist/cli/main.js';

const out = [];
const started = process.hrtime.bigint();
const code = await main(process.argv, { out: (t) => out.push(t), err: (t) => process.stderr.write(`${t}\n`) });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${JSON.stringify({ code, seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, output: out.join('\n') })}\n`);
