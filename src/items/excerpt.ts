// Input quoted in a failure message goes into the run log and the ledger: a
// header or path of megabytes must not make every record of it as large.

/** At most `max` characters of `text` (never splitting a surrogate pair), and "…" when it was cut. */
export function excerpt(text: string, max = 200): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length} characters)`;
}
