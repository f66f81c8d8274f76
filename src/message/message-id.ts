// The one Message-ID reader. Items (.eml ids), messages (MessageSource.messageId)
// and targets (a Maildir folder's listing, an IMAP folder's search) all read a
// Message-ID here, so that the same header always gives the same id and a copy
// stored once is recognised whatever form its header was written in.
import { createHash } from 'node:crypto';

/** The first 32 hex digits of SHA-256(source "\0" id): the Message-ID's local part (xip-items.md §3). */
export function itemDigest(source: string, id: string): string {
  return createHash('sha256').update(`${source}\0${id}`, 'utf8').digest('hex').slice(0, 32);
}

/** §3: "<" + itemDigest + "@xip.invalid>"; the same item always gets the same id. */
export function messageIdFor(source: string, id: string): string {
  return `<${itemDigest(source, id)}@xip.invalid>`;
}

/**
 * The first msg-id of a Message-ID field body (RFC 5322 §3.6.4), normalised
 * to "<id-left@id-right>", or undefined when the field holds none.
 *
 * Accepted as well as the modern form: the obsolete forms of §4.5.4
 * (obs-id-left is a local-part, obs-id-right a domain: atoms or quoted strings
 * with CFWS between the dots, domain literals), comments (nested, with
 * quoted-pairs) and folding wherever CFWS may be, and a msg-id without its
 * angle brackets, which old archives hold in numbers. RFC 6532 UTF-8 is
 * accepted where ASCII text is.
 *
 * Normalisation removes CFWS only: quoted strings and domain literals are kept
 * as written (unfolded), and no letter case changes, so that ids compare exactly.
 */
export function parseMessageId(fieldBody: string): string | undefined {
  // §2.2.3: unfolding removes the CRLF of a fold and nothing else.
  const text = fieldBody.replace(/\r?\n(?=[ \t])/g, '');
  const p = new Parser(text);
  p.cfws();
  const bracketed = p.eat('<');
  const left = p.localPart();
  if (left === undefined || !p.eat('@')) return undefined;
  const right = p.domain();
  if (right === undefined) return undefined;
  if (bracketed) {
    p.cfws();
    if (!p.eat('>')) return undefined;
  } else {
    // Without brackets nothing marks the id's end, so it must end at a
    // boundary: "a@b.c>" or "a@b.c,d" is not an id followed by something else.
    const before = p.pos;
    p.cfws();
    if (!p.done() && p.pos === before) return undefined;
  }
  return `<${left}@${right}>`;
}

/**
 * The normalised Message-ID of a header block (header lines, CRLF or LF,
 * possibly folded): the first field named Message-ID in any letter case
 * (RFC 5322 §1.2.2: field names are case-insensitive), or undefined when that
 * field is missing or holds no msg-id.
 */
export function messageIdOfHeader(header: string): string | undefined {
  const unfolded = header.replace(/\r?\n(?=[ \t])/g, '');
  for (const line of unfolded.split(/\r?\n/)) {
    // §4.5.3 obs-optional: white space may come before the colon.
    const m = /^message-id[ \t]*:/i.exec(line);
    if (m) return parseMessageId(line.slice(m[0].length));
  }
  return undefined;
}

/**
 * What to give IMAP `SEARCH HEADER Message-ID` (a case-insensitive substring
 * match, RFC 9051 §6.4.4) to find a stored copy of a normalised id:
 * "id-left@id-right" without the brackets, which the stored header holds
 * whether it was written with or without brackets, with comments around the
 * id, folded, or under any case of field name. The matches must be confirmed
 * by reading their header with `messageIdOfHeader`. An id whose stored form
 * had CFWS inside it (obs "<a . b@c>") does not contain this text; only a full
 * listing of the folder finds it.
 */
export function messageIdSearchText(normalised: string): string {
  return normalised.startsWith('<') && normalised.endsWith('>') ? normalised.slice(1, -1) : normalised;
}

// RFC 5322 §3.2.3 atext, with RFC 6532 §3.2 UTF8-non-ascii.
const ATEXT = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]/;

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.pos >= this.s.length;
  }

  eat(c: string): boolean {
    if (this.s[this.pos] !== c) return false;
    this.pos++;
    return true;
  }

  /** Skips [CFWS] (§3.2.2). An unterminated comment leaves pos at its "(" so that what follows fails. */
  cfws(): void {
    for (;;) {
      const c = this.s[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '(') {
        if (!this.comment()) return;
      } else return;
    }
  }

  /** comment = "(" *([FWS] ccontent) [FWS] ")", ccontent nesting comments; false when it never closes. */
  private comment(): boolean {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++];
      if (c === '\\') this.pos++; // quoted-pair
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return true;
    }
    this.pos = start;
    return false;
  }

  /** local-part = dot-atom / quoted-string / obs-local-part (word *("." word)), CFWS dropped. */
  localPart(): string | undefined {
    const words: string[] = [];
    for (;;) {
      this.cfws();
      const word = this.s[this.pos] === '"' ? this.quoted() : this.atom();
      if (word === undefined) return undefined;
      words.push(word);
      this.cfws();
      if (!this.eat('.')) return words.join('.');
    }
  }

  /** domain = dot-atom / domain-literal / obs-domain (atom *("." atom)), CFWS dropped. */
  domain(): string | undefined {
    this.cfws();
    if (this.s[this.pos] === '[') return this.literal();
    const atoms: string[] = [];
    for (;;) {
      this.cfws();
      const atom = this.atom();
      if (atom === undefined) return undefined;
      atoms.push(atom);
      const before = this.pos;
      this.cfws();
      if (!this.eat('.')) {
        this.pos = before; // the CFWS after the id is the caller's to read
        return atoms.join('.');
      }
    }
  }

  private atom(): string | undefined {
    const start = this.pos;
    while (this.pos < this.s.length && ATEXT.test(this.s[this.pos]!)) this.pos++;
    return this.pos > start ? this.s.slice(start, this.pos) : undefined;
  }

  /** quoted-string (§3.2.4), kept as written with its quotes and quoted-pairs. */
  private quoted(): string | undefined {
    return this.enclosed('"', '"');
  }

  /** domain-literal (§3.4.1) / no-fold-literal, kept as written with its brackets. */
  private literal(): string | undefined {
    return this.enclosed('[', ']');
  }

  private enclosed(open: string, close: string): string | undefined {
    const start = this.pos;
    if (!this.eat(open)) return undefined;
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++]!;
      if (c === close) return this.s.slice(start, this.pos);
      if (c === '\\') {
        if (this.pos >= this.s.length || isBreak(this.s[this.pos]!)) break;
        this.pos++; // quoted-pair (§3.2.1)
      } else if (isBreak(c) || (open === '[' && c === '[')) break;
    }
    this.pos = start;
    return undefined;
  }
}

/** What cannot be inside a quoted string or literal once the field is unfolded. */
function isBreak(c: string): boolean {
  return c === '\r' || c === '\n' || c === '\0';
}
