import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isXipError } from '../errors.js';
import { parseTarget } from './target-spec.js';
import { parseImapUrl } from './imap/url.js';

const usage = (e: unknown): boolean => isXipError(e) && e.code === 'USAGE';

describe('parseTarget (--to)', () => {
  it('takes maildir:ROOT as an absolute directory', () => {
    const spec = parseTarget('maildir:/srv/mail', {});
    assert.deepEqual(spec, { kind: 'maildir', root: '/srv/mail', description: 'maildir:/srv/mail' });
    assert.ok(Object.isFrozen(spec), 'frozen');
    assert.equal(parseTarget('maildir:rel/dir', {}).kind, 'maildir');
    assert.throws(() => parseTarget('maildir:', {}), usage);
  });

  it('takes imap:// and imaps:// with the password from XIP_IMAP_PASSWORD, never from the URL', () => {
    const spec = parseTarget('imaps://admin%40corp.example@mail.corp.example:993', { XIP_IMAP_PASSWORD: 's3cret' });
    assert.equal(spec.kind, 'imap');
    assert.ok(spec.kind === 'imap' && spec.password === 's3cret', 'the password from the environment');
    assert.doesNotMatch(spec.description, /s3cret/);
    assert.throws(() => parseTarget('imap://admin@mail.corp.example', {}), (e: unknown) => usage(e) && /XIP_IMAP_PASSWORD/.test((e as Error).message));
    assert.throws(() => parseTarget('imap://admin:pw@mail.corp.example', { XIP_IMAP_PASSWORD: 'x' }), (e: unknown) => usage(e) && /XIP_IMAP_PASSWORD instead/.test((e as Error).message));
    assert.throws(() => parseTarget('imap://mail.corp.example', { XIP_IMAP_PASSWORD: 'x' }), usage);
    assert.throws(() => parseTarget('imap://a@mail.corp.example/INBOX', { XIP_IMAP_PASSWORD: 'x' }), usage);
    assert.throws(() => parseTarget('imap://a@mail.corp.example?bogus=1', { XIP_IMAP_PASSWORD: 'x' }), usage);
    assert.throws(() => parseTarget('smtp://a@b', {}), usage);
  });

  it('reads user, host, port (143/993 by default) and the options of an IMAP URL', () => {
    assert.deepEqual(parseImapUrl('imap://admin%40corp.example@127.0.0.1:1143?auth=master-user&starttls=never'), {
      secure: false,
      host: '127.0.0.1',
      port: 1143,
      user: 'admin@corp.example',
      auth: 'master-user',
      starttls: 'never',
      description: 'imap://admin%40corp.example@127.0.0.1:1143?auth=master-user&starttls=never',
    });
    assert.equal(parseImapUrl('imap://a@h').port, 143);
    assert.equal(parseImapUrl('imaps://a@h').port, 993);
    assert.equal(parseImapUrl('imaps://a@[::1]:9993').host, '::1');
  });
});
