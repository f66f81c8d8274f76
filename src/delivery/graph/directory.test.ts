// The directory read from a Microsoft 365 tenant's users, against the
// contract double of Microsoft Graph: every page followed, the primary SMTP
// address as the mailbox, smtp: proxy addresses and the UPN as aliases, users
// without a mailbox left out, and a refusal reported as DIRECTORY_UNAVAILABLE.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGraphDouble, type GraphDouble } from '../../../test/support/graph-double/index.js';
import { GraphApi } from './api.js';
import { mailboxOf, readGraphDirectory } from './directory.js';
import { HttpClient } from './http.js';
import { parseLimits } from './settings.js';
import { Gates, OUTLOOK_LIMITS } from './throttle.js';
import { createTokenSource, type GraphCredential } from './token.js';

const RETRY = { retries: 2, baseDelayMs: 5, maxDelayMs: 20 };

describe('the directory from Microsoft Graph users', () => {
  let double: GraphDouble;
  before(async () => {
    double = await startGraphDouble({
      mailboxes: [
        ...Array.from({ length: 1003 }, (_, i) => `user${i}@contoso.example`),
        { address: 'ana@contoso.example', displayName: 'Ana Ruiz', proxyAddresses: ['SMTP:ana@contoso.example', 'smtp:a.ruiz@contoso.example', 'X500:/o=ExchangeLabs/cn=ana', 'sip:ana@contoso.example'] },
        { address: 'room@contoso.example', mailboxEnabled: false },
      ],
    });
  });
  after(() => double.stop());

  const read = async (credential: GraphCredential) => {
    const http = new HttpClient({ ca: double.caPem });
    try {
      const tokens = createTokenSource({ tenant: double.tenant, clientId: double.clientId, loginUrl: double.loginUrl, credential }, http);
      return await readGraphDirectory(new GraphApi({ graphUrl: double.url, http, tokens, gates: new Gates(OUTLOOK_LIMITS) }), RETRY, double.tenant);
    } finally {
      http.close();
    }
  };

  it('follows every page (999 users a page), keeps users with a mailbox, and maps smtp: aliases case-insensitively', async () => {
    const before = double.requestLog.filter((e) => /\/v1\.0\/users\?/.test(e.path)).length;
    const directory = await read({ kind: 'secret', secret: double.clientSecret });
    assert.equal(directory.mailboxes.length, 1004);
    assert.ok(double.requestLog.filter((e) => /\/v1\.0\/users/.test(e.path) && e.host === 'graph').length - before >= 2, 'more than one page');
    const ana = directory.find('A.Ruiz@contoso.example');
    assert.equal(ana?.address, 'ana@contoso.example');
    assert.equal(ana?.name, 'Ana Ruiz');
    assert.equal(ana?.litigationHold, false, 'Graph does not expose litigation hold');
    assert.equal(directory.find('room@contoso.example'), undefined, 'a user without a mailbox is left out');
  });

  it("a wrong secret is DIRECTORY_UNAVAILABLE, naming the identity platform's answer", async () => {
    await assert.rejects(read({ kind: 'secret', secret: 'wrong' }), (e: unknown) => (e as { code?: string }).code === 'DIRECTORY_UNAVAILABLE' && /7000215/.test((e as Error).message));
  });
});

describe('mailboxOf and the limits setting', () => {
  it('takes mail as the address, smtp: proxies and the UPN as aliases, nothing else', () => {
    assert.deepEqual(mailboxOf({ mail: 'a@x.example', displayName: 'A', userPrincipalName: 'a.upn@x.example', proxyAddresses: ['SMTP:a@x.example', 'smtp:alias@x.example', 'X500:/o=x', 'SIP:a@x.example', 'smtp:not an address'] }), {
      address: 'a@x.example',
      name: 'A',
      aliases: ['a@x.example', 'alias@x.example', 'a.upn@x.example'],
      litigationHold: false,
    });
    assert.equal(mailboxOf({ mail: null, userPrincipalName: 'b@x.example' }), undefined);
  });

  it('XIP_GRAPH_LIMITS: concurrent, requests per window and upload bytes per window; anything else refused', () => {
    assert.deepEqual(parseLimits('concurrent=4,requests=30/6s,upload=450000/3000ms'), { concurrent: 4, requests: 30, windowMs: 6000, uploadBytes: 450000, uploadWindowMs: 3000 });
    assert.deepEqual(parseLimits(undefined), {});
    for (const bad of ['concurrent=4/1s', 'requests=30', 'requests=0/1s', 'bogus=1', 'upload=1/0s']) assert.throws(() => parseLimits(bad), (e: unknown) => (e as { code?: string }).code === 'USAGE', bad);
  });
});
