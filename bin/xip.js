#!/usr/bin/env node
// The installed command: runs the compiled CLI (npm's `prepare` builds dist/ on `npm ci`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
