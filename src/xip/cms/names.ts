// Distinguished names as people read them: RFC 4514 string form.
import * as pkijs from 'pkijs';
import { children, readTlv } from './der.js';

// RFC 4514 §3 names, plus the few OpenSSL and eIDAS certificates commonly carry;
// any other type is written as its dotted OID (RFC 4514 §2.3).
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.5': 'serialNumber',
  '2.5.4.4': 'SN',
  '2.5.4.42': 'GN',
  '2.5.4.12': 'title',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

// RFC 4514 §2.4: escape the specials, a leading '#' or space, a trailing space, and NUL.
function escapeValue(value: string): string {
  let out = value.replace(/[\\"+,;<>]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function attributeValue(tv: pkijs.AttributeTypeAndValue): string {
  const v = (tv.value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
  if (typeof v === 'string') return escapeValue(v);
  // Not a string type: RFC 4514 §2.4 hex form of the BER encoding.
  const der = Buffer.from((tv.value as { toBER(): ArrayBuffer }).toBER());
  return `#${der.toString('hex')}`;
}

/**
 * RFC 4514-style string of a Name: RDNs last-to-first ("CN=…, O=…, C=…"),
 * joined by ", " for readability; multi-valued RDNs joined by "+".
 */
export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  const groups = rdnGroups(name);
  return groups
    .map((group) => group.map((tv) => `${SHORT_NAMES[tv.type] ?? tv.type}=${attributeValue(tv)}`).join('+'))
    .reverse()
    .join(', ');
}

function rdnGroups(name: pkijs.RelativeDistinguishedNames): pkijs.AttributeTypeAndValue[][] {
  const raw = new Uint8Array(name.valueBeforeDecode);
  const values = name.typesAndValues;
  // pkijs flattens the RDNs; their boundaries are the SETs of the raw Name
  // (RDNSequence ::= SEQUENCE OF SET OF AttributeTypeAndValue).
  let sizes: number[];
  try {
    sizes = children(raw, readTlv(raw, 0)).map((set) => children(raw, set).length);
  } catch {
    return values.map((v) => [v]);
  }
  if (sizes.reduce((a, b) => a + b, 0) !== values.length) return values.map((v) => [v]);
  const out: pkijs.AttributeTypeAndValue[][] = [];
  let i = 0;
  for (const n of sizes) {
    out.push(values.slice(i, i + n));
    i += n;
  }
  return out;
}
