// Paths and long words in what the CLI prints. A path can be 64 KB long (a
// name that is too long is the very error being reported): a message shows
// its start and its end and says how much it left out, so that the cause
// stays on the screen. --json output carries the full text.

const HEAD = 60;
const TAIL = 80;

/** `path` whole when it is at most `max` characters, else its start and end around "…(N characters)…". */
export function shortPath(path: string, max = HEAD + TAIL + 40): string {
  if (path.length <= max) return path;
  const left = path.length - HEAD - TAIL;
  return `${path.slice(0, HEAD)}…(${left} characters)…${path.slice(-TAIL)}`;
}

/** `text` with every run of more than `max` characters without a space shortened as shortPath does. */
export function shortenLongWords(text: string, max = HEAD + TAIL + 40): string {
  return text.replace(new RegExp(`\\S{${max + 1},}`, 'gu'), (word) => shortPath(word, max));
}

/** `word` quoted for a POSIX shell when it needs to be, so that a printed command works when pasted. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/u.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
