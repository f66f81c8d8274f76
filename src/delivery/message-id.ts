/** The Message-ID ("<...>") of a header block (unfolded, RFC 5322 §3.6.4), or undefined. */
export function messageIdOf(header: string): string | undefined {
  const unfolded = header.replace(/\r?\n[ \t]/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^message-id[ \t]*:(.*)$/i.exec(line);
    if (!m) continue;
    const angle = /<[^<>\s]*>/.exec(m[1]!);
    return angle ? angle[0] : undefined;
  }
  return undefined;
}
