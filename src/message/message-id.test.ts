import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageIdOfHeader, messageIdSearchText, parseMessageId } from './message-id.js';

describe('parseMessageId', () => {
  it('reads the modern form as it is', () => {
    assert.equal(parseMessageId('<abc.def@host.example>'), '<abc.def@host.example>');
    assert.equal(parseMessageId('  <abc@host.example>  '), '<abc@host.example>');
  });

  it('adds the angle brackets to an id written without them (obsolete archives)', () => {
    assert.equal(parseMessageId('abc.def@host.example'), '<abc.def@host.example>');
    assert.equal(parseMessageId(' 1995Jan01.1234@mail.example (Postmaster) '), '<1995Jan01.1234@mail.example>');
  });

  it('drops comments before and after the id, nested and with quoted-pairs', () => {
    assert.equal(parseMessageId('<abc@host.example> (added by the gateway)'), '<abc@host.example>');
    assert.equal(parseMessageId('(a (nested \\) comment) here)<abc@host.example>(x\\(y)'), '<abc@host.example>');
  });

  it('unfolds a field folded before, inside and after the id', () => {
    assert.equal(parseMessageId('\r\n <abc@host.example>'), '<abc@host.example>');
    assert.equal(parseMessageId('\n\t<abc@host.example>\r\n (folded comment)'), '<abc@host.example>');
    assert.equal(parseMessageId('<abc\r\n .def @\r\n host.example>'), '<abc.def@host.example>');
  });

  it('drops CFWS between the dots of obs-id-left and obs-id-right (RFC 5322 §4.5.4)', () => {
    assert.equal(parseMessageId('< a . b (c) . c @ host (d) . example >'), '<a.b.c@host.example>');
  });

  it('keeps quoted local parts as written, quotes and quoted-pairs included', () => {
    assert.equal(parseMessageId('<"john doe"@host.example>'), '<"john doe"@host.example>');
    assert.equal(parseMessageId('<"a\\"b".c@host.example>'), '<"a\\"b".c@host.example>');
    assert.equal(parseMessageId('"(not a comment)"@host.example'), '<"(not a comment)"@host.example>');
  });

  it('keeps domain literals as written', () => {
    assert.equal(parseMessageId('<abc@[192.0.2.1]>'), '<abc@[192.0.2.1]>');
    assert.equal(parseMessageId('abc @ [IPv6:2001:db8::1] (x)'), '<abc@[IPv6:2001:db8::1]>');
  });

  it('changes no letter case: ids are compared exactly', () => {
    assert.equal(parseMessageId('<AbC@Host.Example>'), '<AbC@Host.Example>');
  });

  it('reads only the first msg-id of the field', () => {
    assert.equal(parseMessageId('<one@host.example> <two@host.example>'), '<one@host.example>');
    assert.equal(parseMessageId('one@host.example two@host.example'), '<one@host.example>');
  });

  it('accepts RFC 6532 UTF-8 text', () => {
    assert.equal(parseMessageId('<grüße@bücher.example>'), '<grüße@bücher.example>');
  });

  it('finds no id in garbage', () => {
    for (const garbage of [
      '', '   ', '(only a comment)', '<>', '<abc>', 'abc', '<@host.example>', '<abc@>', '<abc@host.example', 'abc@host.example>',
      '<a..b@host.example>', '<.a@host.example>', '<a@host.example.>', '<a@b@c>', '(unclosed <a@host.example>', '<"unclosed@host.example>',
      '<a@[unclosed>', 'x <a@host.example>', '<a b@host.example>', 'a@host.example,b@host.example',
    ]) {
      assert.equal(parseMessageId(garbage), undefined, JSON.stringify(garbage));
    }
  });

  it('gives equal ids in different forms the same normalised form', () => {
    const forms = [
      '<abc.def@host.example>',
      'abc.def@host.example',
      '<abc.def@host.example> (comment)',
      '\r\n <abc.def@host.example>',
      ' (c) abc . def (x) @ host . example (y)',
      '<abc.def\r\n\t@host.example>',
    ];
    assert.deepEqual(new Set(forms.map(parseMessageId)), new Set(['<abc.def@host.example>']));
  });
});

describe('messageIdOfHeader', () => {
  it('reads the first Message-ID field, its name in any case, folded, CRLF or LF', () => {
    assert.equal(messageIdOfHeader('Subject: x\r\nMessage-ID: <a@host.example>\r\nMessage-ID: <b@host.example>\r\n'), '<a@host.example>');
    assert.equal(messageIdOfHeader('Subject: x\nmessage-id:\n  a@host.example\n (c)\nTo: y\n'), '<a@host.example>');
    assert.equal(messageIdOfHeader('MESSAGE-ID : <a@host.example>'), '<a@host.example>');
    assert.equal(messageIdOfHeader('Message-Id:<a@host.example>'), '<a@host.example>');
  });

  it('is undefined without a Message-ID field or with an unreadable one, and not fooled by look-alikes', () => {
    assert.equal(messageIdOfHeader('Subject: x\r\nIn-Reply-To: <a@host.example>\r\nX-Message-ID: <b@host.example>\r\n'), undefined);
    assert.equal(messageIdOfHeader('Subject: Message-ID: <a@host.example>\r\n'), undefined);
    assert.equal(messageIdOfHeader('Message-ID: garbage\r\nMessage-ID: <b@host.example>\r\n'), undefined);
  });
});

describe('messageIdSearchText', () => {
  it('is the id without brackets: a substring of each stored form of it', () => {
    const text = messageIdSearchText('<abc.def@host.example>');
    assert.equal(text, 'abc.def@host.example');
    for (const stored of ['<abc.def@host.example>', 'abc.def@host.example', '<abc.def@host.example> (c)']) assert.ok(stored.includes(text), stored);
  });
});
