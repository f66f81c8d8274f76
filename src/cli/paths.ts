// Paths and long words in what the CLI prints. A path can be 64 KB long (a
// name that is too long is the very error being reported): a message shows
// its start and its end and how long it was, as the container reader's
// messages do (xip/show-path.ts), so that the cause stays on the screen.
import { showPath } from '../xip/show-path.js';

/** `path` whole when it is short, else its start and end and its length. */
export const shortPath = showPath;

/** `text` with every run of more than 160 characters without a space shortened as shortPath does. */
export function shortenLongWords(text: string): string {
  return text.replace(/\S{161,}/gu, (word) => showPath(word));
}

/** `word` quoted for a POSIX shell when it needs to be, so that a printed command works when pasted. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/u.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
