// The organisation's directory (xip-items.md §4): its mailboxes, each with an
// address, aliases and whether its user is on litigation hold. Read here from
// a CSV file; another directory source (LDAP, Graph) builds one with
// createDirectory and gets the same checks.
//
// Addresses and aliases are compared case-insensitively (§4), so no two
// mailboxes may share one in any case: the directory must say unambiguously
// whose mailbox an address is. That includes an alias of one mailbox equal to
// the address of another.
import { XipError } from '../errors.js';
import { isEmailAddress } from '../items/schema.js';
import { tableRows } from './csv.js';

export interface DirectoryMailbox {
  /** The canonical address, as the directory writes it: what a mailbox is delivered to. */
  readonly address: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly litigationHold: boolean;
}

export interface Directory {
  readonly mailboxes: readonly DirectoryMailbox[];
  /** The mailbox with this address or alias, compared case-insensitively. */
  find(address: string): DirectoryMailbox | undefined;
}

/** §4: "compared case-insensitively"; NFC so that the same address typed two ways is one. */
export function addressKey(address: string): string {
  return address.normalize('NFC').toLowerCase();
}

export const DIRECTORY_COLUMNS = ['email', 'name', 'aliases', 'litigationHold'] as const;

/** Reads a directory CSV; `source` names the file in errors ("users.csv line 7: …"). Throws DIRECTORY_INVALID. */
export function loadDirectory(csvText: string, source: string): Directory {
  // Rows are read one at a time and only the mailboxes kept: the cost is the
  // directory itself, not copies of the file (issue 8, fault 6).
  const builder = new DirectoryBuilder((line) => `${source} line ${line}`);
  for (const { line, values } of tableRows(csvText, source, DIRECTORY_COLUMNS, 'DIRECTORY_INVALID')) {
    const fail = (rule: string): never => {
      throw new XipError('DIRECTORY_INVALID', `${source} line ${line}: ${rule}`);
    };
    const address = (values.email as string).trim();
    if (!isEmailAddress(address)) fail(`email: "${address}" is not an email address`);
    const aliases = (values.aliases as string).split(';').map((a) => a.trim()).filter((a) => a !== '');
    for (const alias of aliases) if (!isEmailAddress(alias)) fail(`aliases: "${alias}" is not an email address`);
    // Spreadsheets write TRUE/FALSE: the case of the word is not a mistake worth refusing.
    const hold = (values.litigationHold as string).trim().toLowerCase();
    if (hold !== 'true' && hold !== 'false') fail(`litigationHold: must be true or false, found "${values.litigationHold as string}"`);
    builder.add({ address, name: (values.name as string).trim(), aliases, litigationHold: hold === 'true' }, line);
  }
  return builder.build();
}

/** A directory from another source; `describe(i)` names the i-th mailbox in errors. Throws DIRECTORY_INVALID. */
export function createDirectory(mailboxes: Iterable<DirectoryMailbox>, describe: (index: number) => string = (i) => `mailbox ${i + 1}`): Directory {
  const builder = new DirectoryBuilder(describe);
  let i = 0;
  for (const m of mailboxes) {
    const where = describe(i);
    if (!isEmailAddress(m.address)) throw new XipError('DIRECTORY_INVALID', `${where}: "${m.address}" is not an email address`);
    for (const alias of m.aliases) {
      if (!isEmailAddress(alias)) throw new XipError('DIRECTORY_INVALID', `${where}: alias "${alias}" is not an email address`);
    }
    builder.add(m, i++);
  }
  return builder.build();
}

const NO_ALIASES: readonly string[] = Object.freeze([]);

/**
 * The mailboxes and one map from every address and alias key to its
 * mailbox's index (an alias as -(index + 1)); where each mailbox came from is
 * kept as a number (its line, or its index) and put into words only for an
 * error.
 */
class DirectoryBuilder {
  readonly #mailboxes: DirectoryMailbox[] = [];
  readonly #at: number[] = [];
  readonly #byKey = new Map<string, number>();

  constructor(private readonly describe: (at: number) => string) {}

  add(m: DirectoryMailbox, at: number): void {
    // An alias repeated in its own row, or equal to the row's own address, names no other mailbox: dropped, not refused.
    const ownKey = addressKey(m.address);
    const aliases: string[] = [];
    const aliasKeys: string[] = [];
    for (const alias of m.aliases) {
      const key = addressKey(alias);
      if (key === ownKey || aliasKeys.includes(key)) continue;
      aliasKeys.push(key);
      aliases.push(alias);
    }
    const clash = (field: string, value: string, key: string): void => {
      const other = this.#byKey.get(key);
      if (other === undefined) return;
      const index = other < 0 ? -other - 1 : other;
      const owner = this.#mailboxes[index] as DirectoryMailbox;
      const what = other < 0 ? `an alias of ${owner.address}` : 'the address of a mailbox';
      throw new XipError('DIRECTORY_INVALID', `${this.describe(at)}: ${field}: ${value} is already ${what} (${this.describe(this.#at[index] as number)})`);
    };
    clash('email', m.address, ownKey);
    aliases.forEach((alias, k) => clash('aliases', alias, aliasKeys[k] as string));

    const index = this.#mailboxes.length;
    const mailbox: DirectoryMailbox = Object.freeze({ address: m.address, name: m.name, aliases: aliases.length === 0 ? NO_ALIASES : Object.freeze(aliases), litigationHold: m.litigationHold });
    this.#mailboxes.push(mailbox);
    this.#at.push(at);
    this.#byKey.set(ownKey, index);
    for (const key of aliasKeys) this.#byKey.set(key, -index - 1);
  }

  build(): Directory {
    const byKey = this.#byKey;
    const mailboxes = Object.freeze(this.#mailboxes);
    return Object.freeze({
      mailboxes,
      find: (address: string) => {
        const index = byKey.get(addressKey(address));
        return index === undefined ? undefined : mailboxes[index < 0 ? -index - 1 : index];
      },
    });
  }
}
