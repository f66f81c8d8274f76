// IMAP date-time (RFC 3501 §9 / RFC 9051 §9): "dd-Mon-yyyy hh:mm:ss +zzzz",
// written in UTC: a Date carries an instant, not the offset it was written
// with, and INTERNALDATE is an instant (servers store it as one; Dovecot's
// Maildir keeps it as the file's mtime).
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatInternalDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('internal date is not a valid date');
  const year = date.getUTCFullYear();
  if (year < 1000 || year > 9999) throw new RangeError(`internal date year ${year} cannot be written as an IMAP date-time`);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${year} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

/** Why the date cannot be an INTERNALDATE, or undefined when it can. */
export function unwritableDate(date: Date): string | undefined {
  try {
    formatInternalDate(date);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
