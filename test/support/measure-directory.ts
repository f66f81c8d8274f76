// Loads a directory CSV (and a mapping CSV, if given) in a fresh process and
// prints the mailbox count with the process's peak resident memory (maxRSS),
// for memory bounds measured on the loading alone.
import { readFileSync } from 'node:fs';
import { loadDirectory, loadMapping } from '../../src/mapping/index.js';

const [directoryPath, mappingPath] = process.argv.slice(2);
const directory = loadDirectory(readFileSync(directoryPath!, 'utf8'), directoryPath!);
const mapping = mappingPath ? loadMapping(readFileSync(mappingPath, 'utf8'), mappingPath, directory) : undefined;
process.stdout.write(JSON.stringify({ mailboxes: directory.mailboxes.length, mapped: mapping?.size ?? 0, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
