// IMAP's modified UTF-7 (RFC 3501 §5.1.3), the encoding Dovecot uses for a
// mailbox name on disk unless `mailbox_list_utf8 = yes`: printable US-ASCII
// stands for itself, "&" is written "&-", and any other run of characters is
// "&" + the modified BASE64 of its UTF-16BE code units ("," for "/", no
// padding) + "-".

function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

function encodeRun(run: string): string {
  const units = Buffer.alloc(run.length * 2);
  for (let i = 0; i < run.length; i++) units.writeUInt16BE(run.charCodeAt(i), i * 2);
  return '&' + units.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
}

export function encodeMutf7(name: string): string {
  let out = '';
  let run = '';
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (isDirect(code)) {
      if (run) {
        out += encodeRun(run);
        run = '';
      }
      out += ch === '&' ? '&-' : ch;
    } else {
      run += ch; // a character outside the BMP is two UTF-16 code units, as RFC 3501 wants
    }
  }
  if (run) out += encodeRun(run);
  return out;
}

/** The inverse of encodeMutf7; throws TypeError on a malformed name. */
export function decodeMutf7(encoded: string): string {
  return encoded.replace(/&([^-]*)-/g, (_all, b64: string) => {
    if (b64 === '') return '&';
    if (!/^[A-Za-z0-9+,]+$/.test(b64)) throw new TypeError(`malformed modified UTF-7: &${b64}-`);
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0) throw new TypeError(`malformed modified UTF-7: &${b64}-`);
    let out = '';
    for (let i = 0; i < bytes.length; i += 2) out += String.fromCharCode(bytes.readUInt16BE(i));
    return out;
  });
}
