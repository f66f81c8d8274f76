// A configuration from the API: paths made local, secrets kept on edit only
// where what they unlock is unchanged.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfig, type ConnectorConfigInput } from '../connector/config.js';
import { XipError } from '../errors.js';
import { homeFrom } from '../home/home.js';
import { testIdentity } from '../xip/test-support/container.js';
import { configFromRequest } from './connector-input.js';

const home = homeFrom({ XIP_HOME: '/srv/xip' });
const HOST_KEY = `SHA256:${'C'.repeat(43)}`;
const base = (extra: Partial<ConnectorConfigInput> = {}): ConnectorConfigInput => ({
  version: 1,
  name: 'c',
  source: { kind: 'folder', path: '/data/drop' },
  trust: [{ file: 'ca.pem', text: testIdentity().issued.caCertificatePem }],
  directory: { file: 'u.csv', text: 'email,name,aliases,litigationHold\nana@corp.example,Ana,,false\n' },
  target: { to: 'maildir:/srv/xip/mail' },
  ...extra,
});
const sftp = { kind: 'sftp' as const, host: 'h.example', port: 22, username: 'u', path: '/out', hostKey: HOST_KEY };
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof XipError) return `${e.code}: ${e.detail}`;
    throw e;
  }
  return 'accepted';
};

describe('configFromRequest', () => {
  it('stores paths inside XIP_HOME relative to it, and refuses relative ones', () => {
    const config = configFromRequest(home, base({ source: { kind: 'folder', path: join(home.root, 'drop') } }));
    assert.equal((config.source as { path: string }).path, '$XIP_HOME/drop');
    assert.equal(config.target.to, 'maildir:$XIP_HOME/mail');
    assert.match(code(() => configFromRequest(home, base({ target: { to: 'maildir:mail' } }))), /^CONFIG_INVALID: target\.to: must be an absolute path/);
    assert.match(code(() => configFromRequest(home, base({ target: { to: 'imap://admin@mail.example:143' } }))), /^CONFIG_INVALID: --to imap:.*needs the administrative password/);
  });

  it('keeps an SFTP password or key on edit while server, port, user and host key stay; a new credential replaces the old', () => {
    const withKey = checkConfig(base({ source: { ...sftp, privateKey: 'KEY', passphrase: 'PHRASE' } }));
    const kept = configFromRequest(home, base({ source: { ...sftp, path: '/elsewhere' } }), withKey);
    assert.deepEqual([(kept.source as { privateKey: string }).privateKey, (kept.source as { passphrase: string }).passphrase], ['KEY', 'PHRASE']);
    const password = configFromRequest(home, base({ source: { ...sftp, password: 'NEW' } }), withKey);
    assert.deepEqual(password.source, { ...sftp, password: 'NEW' }, 'a password given drops the stored key and passphrase');
    for (const changed of [{ host: 'other.example' }, { port: 2222 }, { username: 'v' }, { hostKey: `SHA256:${'D'.repeat(43)}` }]) {
      assert.match(code(() => configFromRequest(home, base({ source: { ...sftp, ...changed } }), withKey)), /^CONFIG_INVALID: source\.password: give exactly one/, JSON.stringify(changed));
    }
  });

  it('keeps an Azure secret for the same account and auth, an IMAP password for the same address, app secrets for the same app', () => {
    const url = 'https://acct.blob.core.windows.net/exports';
    const azure = checkConfig(base({ source: { kind: 'azure', url, auth: 'key', secret: 'AZ' } }));
    const kept = configFromRequest(home, base({ source: { kind: 'azure', url: `${url}/sub`, auth: 'key', secret: '(set)' } as never }), azure);
    assert.equal((kept.source as { secret: string }).secret, 'AZ');
    assert.match(code(() => configFromRequest(home, base({ source: { kind: 'azure', url: 'https://evil.blob.core.windows.net/x', auth: 'key' } as never }), azure)), /^CONFIG_INVALID: source\.secret/);

    const to = 'imaps://admin@mail.example:993';
    const imap = checkConfig(base({ target: { to, password: 'IMAP' } }));
    assert.equal(configFromRequest(home, base({ target: { to } }), imap).target.password, 'IMAP');
    assert.match(code(() => configFromRequest(home, base({ target: { to: 'imaps://admin@evil.example:993' } }), imap)), /needs the administrative password/);

    const app = { tenant: 't.example', clientId: 'id', clientSecret: 'APP-SECRET' };
    const graph = checkConfig(base({ target: { to: 'graph://t.example', app } }));
    assert.equal(configFromRequest(home, base({ target: { to: 'graph://t.example', app: { tenant: 't.example', clientId: 'id' } } }), graph).target.app?.clientSecret, 'APP-SECRET');
    const moved = base({ target: { to: 'graph://t.example', app: { tenant: 't.example', clientId: 'id', loginUrl: 'https://login.evil.example' } } });
    assert.match(code(() => configFromRequest(home, moved, graph)), /^CONFIG_INVALID: .*a client secret/, 'not kept for another login endpoint');
  });
});
