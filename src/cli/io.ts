// Output for every command: lines for people, one JSON object for machines.
//
// Everything printed passes through here, and here every character that a
// terminal would act on instead of showing is written as a `\uXXXX` escape:
// an item id, an entry name, a signer's subject or an error's detail comes
// from a container, and `ESC [ 2 J` in it must not clear the screen, move
// the cursor, retitle the window or reorder text. Escaped are C0 (line breaks
// and tabs included: each string given is one line, so input cannot forge
// another line), DEL, C1 (0x9B is CSI for terminals that take 8-bit
// controls), the bidirectional marks, embeddings, overrides and isolates
// (Unicode TR 9: they make text read in another order than it is stored,
// "Trojan Source", CVE-2021-42574) and the line and paragraph separators.
//
// The `\uXXXX` form is also a JSON escape, and JSON.stringify leaves none of
// these raw except DEL, C1, the bidi characters and U+2028/U+2029, which
// only occur inside strings: so a JSON object passed through here still
// parses to exactly the same value, and --json output stays exact.

/** The characters written as escapes: C0, DEL, C1, bidi formatting characters, line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `text` with every character a terminal would act on written as `\uXXXX`; the rest, backslashes included, as it is. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface Output {
  /** Lines on stdout, one per argument; what they hold is escaped (escapeControls). */
  out(...lines: readonly string[]): void;
  /** Lines on stderr, one per argument, escaped the same way. */
  err(...lines: readonly string[]): void;
}

function writer(stream: NodeJS.WritableStream): (...lines: readonly string[]) => void {
  return (...lines) => {
    stream.write(lines.map((l) => `${escapeControls(l)}\n`).join(''));
  };
}

export const processOutput: Output = {
  out: writer(process.stdout),
  err: writer(process.stderr),
};

/** How a command reports its exit code back to main. */
export type SetExit = (code: number) => void;
