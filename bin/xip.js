#!/usr/bin/env -S node --max-semi-space-size=1
// The installed command: runs the compiled CLI (npm's `prepare` builds dist/ on `npm ci`).
// --max-semi-space-size=1: V8's young generation grows to 16 MiB semi-spaces by
// default; an import churns through many short-lived message buffers, and the
// smaller young generation keeps its peak memory about 25 MiB lower at no
// measurable cost in CPU (bench/RESULTS.md).
import { main } from '../dist/cli/main.js';

// A reader that stops early (`xip inspect f.xip | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv);
