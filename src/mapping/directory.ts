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
import { readTable } from './csv.js';

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
  const rows = readTable(csvText, source, DIRECTORY_COLUMNS, 'DIRECTORY_INVALID');
  const builder = new DirectoryBuilder();
  for (const { line, values } of rows) {
    const where = `${source} line ${line}`;
    const fail = (rule: string): never => {
      throw new XipError('DIRECTORY_INVALID', `${where}: ${rule}`);
    };
    const address = (values.email as string).trim();
    if (!isEmailAddress(address)) fail(`email: "${address}" is not an email address`);
    const aliases = (values.aliases as string).split(';').map((a) => a.trim()).filter((a) => a !== '');
    for (const alias of aliases) if (!isEmailAddress(alias)) fail(`aliases: "${alias}" is not an email address`);
    // Spreadsheets write TRUE/FALSE: the case of the word is not a mistake worth refusing.
    const hold = (values.litigationHold as string).trim().toLowerCase();
    if (hold !== 'true' && hold !== 'false') fail(`litigationHold: must be true or false, found "${values.litigationHold as string}"`);
    builder.add({ address, name: (values.name as string).trim(), aliases, litigationHold: hold === 'true' }, where);
  }
  return builder.build();
}

/** A directory from another source; `describe(i)` names the i-th mailbox in errors. Throws DIRECTORY_INVALID. */
export function createDirectory(mailboxes: Iterable<DirectoryMailbox>, describe: (index: number) => string = (i) => `mailbox ${i + 1}`): Directory {
  const builder = new DirectoryBuilder();
  let i = 0;
  for (const m of mailboxes) {
    const where = describe(i++);
    if (!isEmailAddress(m.address)) throw new XipError('DIRECTORY_INVALID', `${where}: "${m.address}" is not an email address`);
    for (const alias of m.aliases) {
      if (!isEmailAddress(alias)) throw new XipError('DIRECTORY_INVALID', `${where}: alias "${alias}" is not an email address`);
    }
    builder.add(m, where);
  }
  return builder.build();
}

class DirectoryBuilder {
  readonly #mailboxes: DirectoryMailbox[] = [];
  readonly #byKey = new Map<string, { mailbox: DirectoryMailbox; where: string; isAlias: boolean }>();

  add(m: DirectoryMailbox, where: string): void {
    // An alias repeated in its own row, or equal to the row's own address, names no other mailbox: dropped, not refused.
    const ownKey = addressKey(m.address);
    const aliases: string[] = [];
    const ownKeys = new Set([ownKey]);
    for (const alias of m.aliases) {
      const key = addressKey(alias);
      if (ownKeys.has(key)) continue;
      ownKeys.add(key);
      aliases.push(alias);
    }
    const clash = (field: string, value: string): void => {
      const other = this.#byKey.get(addressKey(value));
      if (other === undefined) return;
      const what = other.isAlias ? `an alias of ${other.mailbox.address}` : 'the address of a mailbox';
      throw new XipError('DIRECTORY_INVALID', `${where}: ${field}: ${value} is already ${what} (${other.where})`);
    };
    clash('email', m.address);
    for (const alias of aliases) clash('aliases', alias);

    const mailbox: DirectoryMailbox = Object.freeze({ address: m.address, name: m.name, aliases: Object.freeze(aliases), litigationHold: m.litigationHold });
    this.#mailboxes.push(mailbox);
    this.#byKey.set(ownKey, { mailbox, where, isAlias: false });
    for (const alias of aliases) this.#byKey.set(addressKey(alias), { mailbox, where, isAlias: true });
  }

  build(): Directory {
    const byKey = new Map([...this.#byKey].map(([key, { mailbox }]) => [key, mailbox]));
    const mailboxes = Object.freeze([...this.#mailboxes]);
    return Object.freeze({
      mailboxes,
      find: (address: string) => byKey.get(addressKey(address)),
    });
  }
}
