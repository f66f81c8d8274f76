// The directory and custom mapping CSV readers (src/mapping/). They read files
// an administrator exports from a spreadsheet or an HR system, which may hold
// anything a person typed. An input is a directory file, optionally followed
// by "\n#mapping\n" and a mapping file read against that directory. Each
// either loads, and then every address and alias it lists is found again
// (case-insensitively) as its own mailbox, or fails with DIRECTORY_INVALID /
// MAPPING_INVALID.
import { loadDirectory, loadMapping, addressKey, type Directory } from '../../src/mapping/index.js';
import { codedOutcome, codes, FuzzViolation, type Target } from '../target.js';
import { SAMPLE_DIRECTORY, SAMPLE_MAPPING } from '../seeds.js';

const DIRECTORY = codes('DIRECTORY_INVALID');
const MAPPING = codes('MAPPING_INVALID');
const SEPARATOR = '\n#mapping\n';

function checkDirectory(directory: Directory): void {
  const keys = new Set<string>();
  for (const mailbox of directory.mailboxes) {
    for (const address of [mailbox.address, ...mailbox.aliases]) {
      const found = directory.find(address);
      if (found !== mailbox) throw new FuzzViolation('lookup', `directory.find(${JSON.stringify(address)}) is not the mailbox that lists it`);
      if (keys.has(addressKey(address))) throw new FuzzViolation('lookup', `${JSON.stringify(address)} is listed by two mailboxes`);
      keys.add(addressKey(address));
    }
  }
}

export const csvTarget: Target = {
  name: 'csv',
  description: 'loadDirectory(text), then loadMapping(rest) against it; every loaded address is found again',
  maxLength: 64 * 1024,
  dictionary: [
    '"', '""', ',', '\r\n', '\n', '\r', '\uFEFF', ';', ' ', 'true', 'FALSE', 'email,name,aliases,litigationHold', 'sourceId,mailbox', SEPARATOR,
    'ana@corp.example', 'ANA@CORP.EXAMPLE', 'A\u0301@corp.example', '\u00C1@corp.example', 'x@y', '@', '\u0000', '\u2028', '__proto__', 'constructor',
  ],
  async setup() {
    const directoryOnly = SAMPLE_DIRECTORY;
    const seeds = [
      directoryOnly,
      directoryOnly + SEPARATOR + SAMPLE_MAPPING,
      'email,name,aliases,litigationHold\n',
      'email,name,aliases,litigationHold\na@b.example,,,true' + SEPARATOR + 'sourceId,mailbox\n__proto__,a@b.example\nconstructor,A@B.EXAMPLE\n',
    ].map((s) => Buffer.from(s, 'utf8'));
    return {
      seeds,
      run(input: Buffer): string {
        const text = input.toString('utf8');
        const cut = text.indexOf(SEPARATOR);
        const directoryText = cut < 0 ? text : text.slice(0, cut);
        let directory: Directory;
        try {
          directory = loadDirectory(directoryText, 'users.csv');
        } catch (e) {
          return codedOutcome(e, DIRECTORY);
        }
        checkDirectory(directory);
        if (cut < 0) return `ok:${Math.min(directory.mailboxes.length, 3)}`;
        try {
          const mapping = loadMapping(text.slice(cut + SEPARATOR.length), 'mapping.csv', directory);
          return `ok:mapping:${Math.min(mapping.size, 3)}`;
        } catch (e) {
          return codedOutcome(e, MAPPING);
        }
      },
      async teardown() {},
    };
  },
};
