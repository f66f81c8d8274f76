// The custom mapping (xip-items.md §4): a participant whose `sourceId` it
// lists goes to that mailbox, before its email address is looked at. Every
// mailbox it names must be in the directory (by address or alias), so that a
// typo is found when the file is loaded, not as items silently unmapped.
import { XipError } from '../errors.js';
import { tableRows } from './csv.js';
import type { Directory, DirectoryMailbox } from './directory.js';

export interface Mapping {
  readonly size: number;
  /** The mailbox this source user goes to; source ids are compared exactly (they are opaque). */
  find(sourceId: string): DirectoryMailbox | undefined;
}

export const MAPPING_COLUMNS = ['sourceId', 'mailbox'] as const;

/** Reads a mapping CSV; `source` names the file in errors ("mapping.csv line 4: …"). Throws MAPPING_INVALID. */
export function loadMapping(csvText: string, source: string, directory: Directory): Mapping {
  // Rows one at a time (issue 8, fault 6); the map holds what the mapping is.
  const bySourceId = new Map<string, { mailbox: DirectoryMailbox; line: number }>();
  for (const { line, values } of tableRows(csvText, source, MAPPING_COLUMNS, 'MAPPING_INVALID')) {
    const fail = (rule: string): never => {
      throw new XipError('MAPPING_INVALID', `${source} line ${line}: ${rule}`);
    };
    const sourceId = (values.sourceId as string).trim();
    const address = (values.mailbox as string).trim();
    if (sourceId === '') fail('sourceId: must not be empty');
    const earlier = bySourceId.get(sourceId);
    if (earlier !== undefined) fail(`sourceId: ${sourceId} is already mapped on line ${earlier.line}`);
    const mailbox = directory.find(address);
    if (mailbox === undefined) fail(`mailbox: "${address}" is not an address or alias of the directory`);
    bySourceId.set(sourceId, { mailbox: mailbox as DirectoryMailbox, line });
  }
  return Object.freeze({
    size: bySourceId.size,
    find: (sourceId: string) => bySourceId.get(sourceId)?.mailbox,
  });
}
