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

  it('takes an imap(s) URL with auth=oauth2-app without user and without XIP_IMAP_PASSWORD (app-only OAuth 2.0), the app from XIP_GRAPH_*', () => {
    const app = { XIP_GRAPH_TENANT: 'contoso.onmicrosoft.com', XIP_GRAPH_CLIENT_ID: 'c1', XIP_GRAPH_CLIENT_SECRET: 's3cret' };
    const spec = parseTarget('imaps://outlook.office365.com?auth=oauth2-app', app);
    assert.deepEqual(spec, {
      kind: 'imap',
      url: 'imaps://outlook.office365.com?auth=oauth2-app',
      password: '',
      oauth2: { tenant: 'contoso.onmicrosoft.com', clientId: 'c1', credential: { kind: 'secret', secret: 's3cret' }, loginUrl: 'https://login.microsoftonline.com', scope: 'https://outlook.office365.com/.default' },
      description: 'imaps://outlook.office365.com?auth=oauth2-app',
    });
    assert.ok(Object.isFrozen(spec), 'frozen');
    const named = parseTarget('imap://svc%40corp.example@127.0.0.1:1143?auth=oauth2-app&starttls=never', { ...app, XIP_IMAP_PASSWORD: 'unused', XIP_GRAPH_IMAP_SCOPE: 'https://x.test/.default' });
    assert.ok(named.kind === 'imap' && named.oauth2?.scope === 'https://x.test/.default' && named.password === '', 'a user in the URL is allowed, the password is not taken');
    assert.equal(named.description, 'imap://svc%40corp.example@127.0.0.1:1143?auth=oauth2-app&starttls=never');
    assert.equal('oauth2' in parseTarget('imaps://admin@mail.corp.example', { XIP_IMAP_PASSWORD: 'x' }), false, 'the other modes have no oauth2 field');
    assert.throws(() => parseTarget('imaps://outlook.office365.com?auth=oauth2-app', { XIP_GRAPH_CLIENT_ID: 'c1', XIP_GRAPH_CLIENT_SECRET: 's' }), (e: unknown) => usage(e) && /XIP_GRAPH_TENANT/.test((e as Error).message));
    assert.throws(() => parseTarget('imaps://outlook.office365.com?auth=oauth2-app', { XIP_GRAPH_TENANT: 't' }), (e: unknown) => usage(e) && /XIP_GRAPH_CLIENT_ID/.test((e as Error).message));
    assert.throws(() => parseTarget('imaps://outlook.office365.com', { XIP_IMAP_PASSWORD: 'x' }), (e: unknown) => usage(e) && /names no user/.test((e as Error).message));
    assert.throws(() => parseTarget('imaps://outlook.office365.com?auth=master-user', { XIP_IMAP_PASSWORD: 'x' }), usage);
    assert.throws(
      () => parseTarget('imaps://a:pw-not-shown@outlook.office365.com?auth=oauth2-app', app),
      (e: unknown) => usage(e) && /holds a password/.test((e as Error).message) && !(e as Error).message.includes('pw-not-shown'),
    );
    assert.throws(() => parseTarget('imaps://outlook.office365.com?auth=oauth2-app&starttls=never', app), usage);
  });

  it('takes graph://TENANT with the app from XIP_GRAPH_* (certificate preferred, or a secret), https roots only, and the IMAP route for large messages', () => {
    const env = { XIP_GRAPH_CLIENT_ID: 'c1', XIP_GRAPH_CLIENT_SECRET: 's3cret' };
    const spec = parseTarget('graph://contoso.onmicrosoft.com', env);
    assert.ok(spec.kind === 'graph');
    assert.equal(spec.tenant, 'contoso.onmicrosoft.com');
    assert.equal(spec.graphUrl, 'https://graph.microsoft.com');
    assert.equal(spec.loginUrl, 'https://login.microsoftonline.com');
    assert.equal(spec.imapUrl, 'imaps://outlook.office365.com', "the global cloud's IMAP host by default");
    assert.ok(!spec.description.includes('s3cret'), 'the secret is not in the description');
    const us = parseTarget('graph://contoso.onmicrosoft.us', { ...env, XIP_GRAPH_URL: 'https://graph.microsoft.us', XIP_GRAPH_LOGIN_URL: 'https://login.microsoftonline.us' });
    assert.ok(us.kind === 'graph' && us.imapUrl === 'imaps://outlook.office365.us' && us.loginUrl === 'https://login.microsoftonline.us');
    const none = parseTarget('graph://t1', { ...env, XIP_GRAPH_IMAP_URL: 'none' });
    assert.ok(none.kind === 'graph' && none.imapUrl === undefined);
    const double = parseTarget('graph://t1', { ...env, XIP_GRAPH_URL: 'https://127.0.0.1:8443' });
    assert.ok(double.kind === 'graph' && double.imapUrl === undefined, 'no IMAP route guessed for another Graph root');
    assert.throws(() => parseTarget('graph://t1', { ...env, XIP_GRAPH_URL: 'http://127.0.0.1:8080' }), (e: unknown) => usage(e) && /https/.test((e as Error).message));
    assert.throws(() => parseTarget('graph://t1', { XIP_GRAPH_CLIENT_ID: 'c1' }), (e: unknown) => usage(e) && /XIP_GRAPH_CERT/.test((e as Error).message));
    assert.throws(() => parseTarget('graph://t1', { XIP_GRAPH_CLIENT_ID: 'c1', XIP_GRAPH_CERT: '-----BEGIN CERTIFICATE-----' }), (e: unknown) => usage(e) && /go together/.test((e as Error).message));
    assert.throws(() => parseTarget('graph://t1', { XIP_GRAPH_CLIENT_ID: 'c1', XIP_GRAPH_CERT: '/nonexistent/cert.pem', XIP_GRAPH_KEY: '/nonexistent/key.pem' }), (e: unknown) => usage(e) && /neither PEM text nor a readable file/.test((e as Error).message));
    assert.throws(() => parseTarget('graph://', env), usage);
    assert.throws(() => parseTarget('graph://a/b', env), usage);
    assert.throws(() => parseTarget('graph://t1', { XIP_GRAPH_CLIENT_SECRET: 's' }), (e: unknown) => usage(e) && /XIP_GRAPH_CLIENT_ID/.test((e as Error).message));
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
