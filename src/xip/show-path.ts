// Paths and names as they appear in messages: whoever sends a container
// chooses its entry names (up to 65,535 bytes), and whoever calls a command
// its paths, so a message shows the start and the end of a long one, and how
// long it was, rather than 65 KB of it.
const MAX_SHOWN = 160;
const HEAD = 100;
const TAIL = 50;

/** `path`, or its first and last characters and its length when it is long. */
export function showPath(path: string): string {
  if (path.length <= MAX_SHOWN) return path;
  return `${path.slice(0, HEAD)}…${path.slice(-TAIL)} (${path.length} characters)`;
}
