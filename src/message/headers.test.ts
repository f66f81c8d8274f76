import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { mailbox, sourceDomain, sourceLocalPart } from './addresses.js';
import { field, phrase, unstructured } from './headers.js';

const lines = (s: string) => s.replace(/\r\n$/, '').split('\r\n');
const subjectOf = async (header: string) => (await simpleParser(Buffer.from(`${header}\r\n`, 'utf8'))).subject;

describe('header fields', () => {
  it('fold at whitespace within 76 characters, never right after the colon nor into a whitespace-only line', () => {
    const f = field('X-XIP-Container', 'a'.repeat(64));
    assert.equal(lines(f).length, 1, 'a value that does not fit is not moved to a line of its own');
    const g = field('Subject', `${'word '.repeat(40)}    end`);
    for (const l of lines(g)) {
      assert.ok(l.length <= 76, l);
      assert.match(l, /\S/);
    }
  });

  it('write as plain text what is plain, and as encoded-words what is not, keeping the text', async () => {
    assert.equal(unstructured('EUR/CHF quote "5m"'), 'EUR/CHF quote "5m"');
    for (const text of ['naïve — 😀', 'looks like =?utf-8?q?a?= word', 'tab\tand\r\nnewline', 'x'.repeat(1200)]) {
      const value = unstructured(text);
      assert.match(value, /^=\?UTF-8\?[QB]\?/);
      const f = field('Subject', value);
      for (const l of lines(f)) assert.ok(l.length <= 76, l);
      assert.equal(await subjectOf(f.trimEnd()), text);
    }
  });

  it('write display names as atoms, quoted strings or encoded-words', () => {
    assert.equal(phrase('Ana Ruiz'), 'Ana Ruiz');
    assert.equal(phrase('Ruiz, Ana "FX"'), '"Ruiz, Ana \\"FX\\""');
    assert.match(phrase('Zoë'), /^=\?UTF-8\?/);
  });
});

describe('addresses', () => {
  it('make a participant without email "Name" <sourceId@source.invalid>, and a name alone an empty group', () => {
    assert.equal(mailbox({ name: 'Bo Chen', sourceId: 'u-104' }, 'Symphony'), 'Bo Chen <u-104@symphony.invalid>');
    assert.equal(mailbox({ sourceId: 'u 104' }, 'Bloomberg Chat (EMEA)'), '"u 104"@bloomberg-chat-emea.invalid');
    assert.equal(mailbox({ name: 'Only Name' }, 'S'), 'Only Name:;');
    assert.equal(mailbox({}, 'S'), undefined);
    assert.equal(mailbox({ name: 'Ana', email: 'ana@corp.example', sourceId: 'u-1' }, 'S'), 'Ana <ana@corp.example>');
  });

  it('keep synthetic addresses valid whatever the source and sourceId', () => {
    assert.equal(sourceDomain('---'), 'source.invalid');
    assert.equal(sourceDomain('x'.repeat(100)), `${'x'.repeat(63)}.invalid`);
    assert.equal(sourceLocalPart('ü-991'), 'ü-991');
    assert.match(sourceLocalPart('a\r\nBcc: victim@example.com'), /^id-[0-9a-f]{32}$/);
    assert.match(sourceLocalPart('s'.repeat(65)), /^id-[0-9a-f]{32}$/);
  });
});
