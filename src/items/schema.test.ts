import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonNumber } from './json.js';
import { validateItem } from './schema.js';

const base = { id: 'i-1', type: 'chat.message', sentAt: '2026-11-22T14:03:11.120+01:00', from: { email: 'ana@corp.example' } };

function rule(value: unknown): string {
  const r = validateItem(value);
  assert.equal(r.ok, false, 'the item should break a rule');
  return r.ok ? '' : r.message;
}

describe('validateItem: each rule of xip-items.md §2, named by field and rule', () => {
  const cases: [string, unknown, string][] = [
    ['an item that is not an object', [base], 'item: must be a JSON object'],
    ['a missing id', { ...base, id: undefined }, 'id: is required'],
    ['an empty id', { ...base, id: '' }, 'id: must not be empty'],
    ['an id that is not a string', { ...base, id: 42 }, 'id: must be a string'],
    ['a missing type', { ...base, type: undefined }, 'type: is required'],
    ['an unknown undotted type', { ...base, type: 'chat' }, 'type: must be message, chat.message, post, comment, document, call, meeting or a dotted custom kind'],
    ['a missing sentAt', { ...base, sentAt: undefined }, 'sentAt: is required'],
    ['a sentAt without offset', { ...base, sentAt: '2026-11-22T14:03:11' }, 'sentAt: must be RFC 3339 with an offset'],
    ['a sentAt on a day that does not exist', { ...base, sentAt: '2026-02-29T14:03:11Z' }, 'sentAt: must be RFC 3339 with an offset'],
    ['a missing from', { ...base, from: undefined }, 'from: is required'],
    ['a from without email or sourceId', { ...base, from: { name: 'Ana' } }, 'from: must have email or sourceId'],
    ['a from email that is not an address', { ...base, from: { email: 'ana at corp' } }, 'from.email: must be an email address (local@domain, at most 254 octets)'],
    ['a participant role outside the list', { ...base, participants: [{ email: 'a@b.example', role: 'owner' }] }, 'participants[0].role: must be to, cc, bcc or member'],
    ['an Email list holding a non-address', { ...base, Email: ['a@b.example', 'nope'] }, 'Email[1]: must be an email address (local@domain, at most 254 octets)'],
    ['an Email that is a number', { ...base, Email: 3 }, 'Email: must be a string or a list of strings'],
    ['a body with neither text nor html', { ...base, body: {} }, 'body: must have text and/or html'],
    ['an attachment without path', { ...base, attachments: [{ name: 'x.pdf' }] }, 'attachments[0].path: is required'],
    ['an attachment content type that is not a media type', { ...base, attachments: [{ path: 'a/x', contentType: 'pdf' }] }, 'attachments[0].contentType: must be a media type such as "application/pdf"'],
    ['properties that are not an object', { ...base, properties: ['x'] }, 'properties: must be an object'],
    ['properties that are a number kept as its text', { ...base, properties: new JsonNumber('1e400') }, 'properties: must be an object'],
    // Its Content-Type header line could not be folded within 998 octets: buildMessage threw an uncoded Error (IO_ERROR in convert, the whole run in import).
    ['a media type name longer than 127 characters (RFC 6838 §4.2)', { ...base, attachments: [{ path: 'a/x', contentType: `application/${'x'.repeat(2000)}` }] }, 'attachments[0].contentType: must be a media type such as "application/pdf"'],
    ['a media type parameter name longer than 127 characters', { ...base, attachments: [{ path: 'a/x', contentType: `application/pdf; ${'x'.repeat(2000)}=1` }] }, 'attachments[0].contentType: must be a media type such as "application/pdf"'],
  ];
  for (const [what, value, message] of cases) {
    it(`reports ${what}`, () => assert.equal(rule(value), message));
  }

  it('reports every broken rule of an item at once', () => {
    assert.equal(rule({ type: 'x', sentAt: 'now', from: {} }), [
      'id: is required',
      'type: must be message, chat.message, post, comment, document, call, meeting or a dotted custom kind',
      'sentAt: must be RFC 3339 with an offset',
      'from: must have email or sourceId',
    ].join('; '));
  });
});

describe('validateItem: normalisation', () => {
  it('moves unknown top-level fields into properties; a declared property of the same name wins', () => {
    const r = validateItem({ ...base, deskId: 'FX-3', platform: 'top', properties: { platform: 'Symphony' } });
    assert.ok(r.ok);
    assert.deepEqual(r.item.properties, { deskId: 'FX-3', platform: 'Symphony' });
  });

  it('makes a single Email a list, and derives Email from from and participants when absent', () => {
    const one = validateItem({ ...base, Email: 'x@corp.example' });
    assert.ok(one.ok);
    assert.deepEqual(one.item.Email, ['x@corp.example']);
    const derived = validateItem({ ...base, participants: [{ email: 'bo@corp.example' }, { sourceId: 'u-1' }, { email: 'ANA@corp.example' }] });
    assert.ok(derived.ok);
    assert.deepEqual(derived.item.Email, ['ana@corp.example', 'bo@corp.example']);
  });

  it('defaults role to member, attachment name to the last path segment, and guesses the content type from the name', () => {
    const r = validateItem({ ...base, participants: [{ email: 'bo@corp.example' }], attachments: [{ path: 'attachments/42/quote.pdf' }, { path: 'a/b', name: 'photo.JPG' }] });
    assert.ok(r.ok);
    assert.equal(r.item.participants[0]?.role, 'member');
    assert.deepEqual(r.item.attachments, [
      { path: 'attachments/42/quote.pdf', name: 'quote.pdf', contentType: 'application/pdf' },
      { path: 'a/b', name: 'photo.JPG', contentType: 'image/jpeg' },
    ]);
  });

  it('fault 8: keeps a "__proto__" key of properties and of the top level as a plain key, and "constructor"', () => {
    const value = JSON.parse('{"__proto__":{"top":true},"constructor":"top","properties":{"__proto__":{"p":1},"toString":"t"}}') as Record<string, unknown>;
    const r = validateItem({ ...base, ...value });
    assert.ok(r.ok);
    assert.equal(Object.getPrototypeOf(r.item.properties), Object.prototype);
    assert.deepEqual(Object.keys(r.item.properties), ['__proto__', 'constructor', 'toString']);
    assert.deepEqual(r.item.properties['__proto__'], { p: 1 });
    assert.equal(r.item.properties.constructor, 'top');
    const onlyTop = validateItem({ ...base, ...(JSON.parse('{"__proto__":{"top":true}}') as object) });
    assert.ok(onlyTop.ok);
    assert.deepEqual(Object.entries(onlyTop.item.properties), [['__proto__', { top: true }]]);
  });

  it('accepts media type names of 127 characters and long parameter values (RFC 2231 continues them)', () => {
    const name = 'x'.repeat(127);
    assert.ok(validateItem({ ...base, attachments: [{ path: 'a/x', contentType: `${name}/${name}; ${name}=${'v'.repeat(3000)}` }] }).ok);
  });

  it('reads null as absent for optional fields', () => {
    const r = validateItem({ ...base, subject: null, participants: null, body: null, conversation: null });
    assert.ok(r.ok);
    assert.equal(r.item.subject, undefined);
    assert.deepEqual(r.item.participants, []);
  });

  it('accepts custom dotted kinds, "Z", "-00:00" and a leap second', () => {
    for (const [type, sentAt] of [['vendor.voice', '2026-11-22T14:03:11Z'], ['post', '2016-12-31T23:59:60-00:00']]) {
      assert.ok(validateItem({ ...base, type, sentAt }).ok, `${type} ${sentAt}`);
    }
  });
});
