// The contract double of Microsoft Graph (test/support/graph-double/), each
// documented behaviour exercised with plain node:https requests (and, for the
// identity platform, with MSAL itself, the library the Graph target uses).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { constants, createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ConfidentialClientApplication, type INetworkModule } from '@azure/msal-node';
import { startGraphDouble, type GraphDouble, type GraphDoubleOptions } from './graph-double/index.js';

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
}

const agents = new WeakMap<GraphDouble, Agent>();
function agentFor(d: GraphDouble): Agent {
  let a = agents.get(d);
  if (!a) agents.set(d, (a = new Agent({ keepAlive: true, ca: d.caPem, maxSockets: 64 })));
  return a;
}

function call(d: GraphDouble, method: string, url: string, o: { headers?: Record<string, string>; body?: string | Buffer; token?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(u, { method, headers, ...(u.protocol === 'https:' ? { agent: agentFor(d), ca: d.caPem } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const form = (o: Record<string, string>): string => new URLSearchParams(o).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function tokenRequest(d: GraphDouble, fields: Record<string, string>, tenant = d.tenant): Promise<Reply> {
  return call(d, 'POST', `${d.loginUrl}/${tenant}/oauth2/v2.0/token`, { headers: FORM, body: form({ grant_type: 'client_credentials', client_id: d.clientId, scope: GRAPH_SCOPE, ...fields }) });
}

async function secretToken(d: GraphDouble, scope = GRAPH_SCOPE): Promise<string> {
  const r = await tokenRequest(d, { client_secret: d.clientSecret, scope });
  assert.equal(r.status, 200, r.text);
  return r.json.access_token as string;
}

function b64json(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

/** A client assertion as the certificate-credentials page describes it, signed here with node:crypto. */
function assertion(d: GraphDouble, o: { alg?: 'RS256' | 'PS256'; key?: KeyObject | string; claims?: Record<string, unknown> } = {}): string {
  const alg = o.alg ?? 'RS256';
  const der = new X509Certificate(d.certificatePem).raw;
  const header = alg === 'RS256' ? { alg, typ: 'JWT', x5t: createHash('sha1').update(der).digest('base64url') } : { alg, typ: 'JWT', 'x5t#S256': createHash('sha256').update(der).digest('base64url') };
  const now = Math.floor(Date.now() / 1000);
  const claims = { aud: `${d.loginUrl}/${d.tenantId}/oauth2/v2.0/token`, iss: d.clientId, sub: d.clientId, jti: randomUUID(), nbf: now, iat: now, exp: now + 600, ...o.claims };
  const data = Buffer.from(`${b64json(header)}.${b64json(claims)}`);
  const key = typeof o.key === 'object' ? o.key : createPrivateKey(o.key ?? d.privateKeyPem!);
  const sig = alg === 'RS256' ? sign('sha256', data, key) : sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  return `${data.toString()}.${sig.toString('base64url')}`;
}

function assertionRequest(d: GraphDouble, jwt: string): Promise<Reply> {
  return tokenRequest(d, { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt });
}

const users = (d: GraphDouble, mailbox: string, rest: string, version = 'v1.0'): string => `${d.url}/${version}/users/${encodeURIComponent(mailbox)}${rest}`;

function mime(id: string, extra = ''): Buffer {
  return Buffer.from(`Message-ID: ${id}\r\nFrom: "Ana Ruiz" <ana@example.com>\r\nTo: archive@contoso.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nDate: Tue, 02 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${extra}`, 'latin1');
}

function importMime(d: GraphDouble, token: string, mailbox: string, folder: string, body: string | Buffer, contentType = 'text/plain'): Promise<Reply> {
  return call(d, 'POST', users(d, mailbox, `/mailFolders/${encodeURIComponent(folder)}/importMime`, 'beta'), { token, headers: { 'content-type': contentType }, body });
}

function folderByName(d: GraphDouble, token: string, mailbox: string, parent: string, name: string): Promise<Reply> {
  const filter = encodeURIComponent(`displayName eq '${name.replaceAll("'", "''")}'`);
  return call(d, 'GET', users(d, mailbox, `/mailFolders/${encodeURIComponent(parent)}/childFolders?$filter=${filter}&$select=id,displayName`), { token });
}

function createChild(d: GraphDouble, token: string, mailbox: string, parent: string, name: string, isHidden?: boolean): Promise<Reply> {
  return call(d, 'POST', users(d, mailbox, `/mailFolders/${encodeURIComponent(parent)}/childFolders`), { token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName: name, ...(isHidden ? { isHidden } : {}) }) });
}

async function started(options: GraphDoubleOptions): Promise<{ d: GraphDouble; token: string }> {
  const d = await startGraphDouble(options);
  return { d, token: await secretToken(d) };
}

const ANA = 'ana.ruiz@contoso.com';
const BEN = 'ben@contoso.com';

describe('graph double: the identity platform', () => {
  let d: GraphDouble;
  before(async () => (d = await startGraphDouble({ mailboxes: [ANA] })));
  after(() => d.stop());

  it('publishes OpenID metadata for the tenant by name and by id, and instance discovery', async () => {
    for (const t of [d.tenant, d.tenantId]) {
      const r = await call(d, 'GET', `${d.loginUrl}/${t}/v2.0/.well-known/openid-configuration`);
      assert.equal(r.status, 200);
      assert.equal(r.json.token_endpoint, `${d.loginUrl}/${d.tenantId}/oauth2/v2.0/token`);
      assert.equal(r.json.issuer, `${d.loginUrl}/${d.tenantId}/v2.0`);
      for (const k of ['authorization_endpoint', 'jwks_uri']) assert.equal(typeof r.json[k], 'string');
    }
    assert.equal((await call(d, 'GET', `${d.loginUrl}/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration`)).status, 400);
    const authorize = encodeURIComponent(`${d.loginUrl}/${d.tenant}/oauth2/v2.0/authorize`);
    const i = await call(d, 'GET', `${d.loginUrl}/common/discovery/instance?api-version=1.1&authorization_endpoint=${authorize}`);
    assert.equal(i.json.tenant_discovery_endpoint, `${d.loginUrl}/${d.tenant}/v2.0/.well-known/openid-configuration`);
    assert.equal(i.json.metadata[0].preferred_network, new URL(d.loginUrl).host);
  });

  it('issues a token for a client secret, and refuses a wrong secret, client, tenant or scope with the documented codes', async () => {
    const issued = d.tokensIssued;
    const ok = await tokenRequest(d, { client_secret: d.clientSecret });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.token_type, 'Bearer');
    assert.equal(ok.json.expires_in, 3600);
    assert.equal(typeof ok.json.access_token, 'string');
    assert.equal(d.tokensIssued, issued + 1);
    const cases: [Record<string, string>, string | undefined, number, string, number][] = [
      [{ client_secret: 'wrong' }, undefined, 401, 'invalid_client', 7000215],
      [{ client_secret: d.clientSecret, client_id: randomUUID() }, undefined, 400, 'unauthorized_client', 700016],
      [{ client_secret: d.clientSecret }, 'fabrikam.onmicrosoft.com', 400, 'invalid_request', 90002],
      [{ client_secret: d.clientSecret, scope: 'https://graph.microsoft.com/Mail.ReadWrite' }, undefined, 400, 'invalid_scope', 70011],
      [{ client_secret: d.clientSecret, scope: 'https://example.com/.default' }, undefined, 400, 'invalid_scope', 70011],
    ];
    for (const [fields, tenant, status, error, code] of cases) {
      const r = await tokenRequest(d, fields, tenant);
      assert.equal(r.status, status, JSON.stringify(fields));
      assert.equal(r.json.error, error);
      assert.deepEqual(r.json.error_codes, [code]);
      assert.match(r.json.error_description, new RegExp(`^AADSTS${code}: `));
      for (const k of ['timestamp', 'trace_id', 'correlation_id']) assert.equal(typeof r.json[k], 'string');
    }
    assert.equal(d.tokensIssued, issued + 1);
  });

  it('issues a token for a client assertion signed RS256 (x5t) or PS256 (x5t#S256) by the registered certificate', async () => {
    for (const alg of ['RS256', 'PS256'] as const) {
      const r = await assertionRequest(d, assertion(d, { alg }));
      assert.equal(r.status, 200, r.text);
      const folder = await call(d, 'GET', users(d, ANA, '/mailFolders/inbox'), { token: r.json.access_token });
      assert.equal(folder.status, 200);
    }
    const byName = await assertionRequest(d, assertion(d, { claims: { aud: `${d.loginUrl}/${d.tenant}/oauth2/v2.0/token` } }));
    assert.equal(byName.status, 200);
  });

  it('refuses a forged, misaddressed, expired or foreign assertion', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const cases: [string, number][] = [
      [assertion(d, { key: other }), 700027],
      [assertion(d, { alg: 'PS256', key: other }), 700027],
      [assertion(d, { claims: { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' } }), 700027],
      [assertion(d, { claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }), 700024],
      [assertion(d, { claims: { iss: randomUUID() } }), 700021],
      ['not.a.jwt', 50027],
    ];
    for (const [jwt, code] of cases) {
      const r = await assertionRequest(d, jwt);
      assert.equal(r.status, 401, r.text);
      assert.equal(r.json.error, 'invalid_client');
      assert.deepEqual(r.json.error_codes, [code]);
    }
  });

  it('serves MSAL for Node (knownAuthorities, no instance discovery) by secret and by certificate', async () => {
    const here = (url: string): string => {
      assert.ok(url.startsWith(`${d.loginUrl}/`), `MSAL went to ${url}`);
      return url;
    };
    const networkClient: INetworkModule = {
      sendGetRequestAsync: async (url, o) => {
        const r = await call(d, 'GET', here(url), { headers: o?.headers ?? {} });
        return { status: r.status, headers: r.headers as Record<string, string>, body: r.json };
      },
      sendPostRequestAsync: async (url, o) => {
        const r = await call(d, 'POST', here(url), { headers: o?.headers ?? {}, body: o?.body ?? '' });
        return { status: r.status, headers: r.headers as Record<string, string>, body: r.json };
      },
    };
    const auth = { clientId: d.clientId, authority: `${d.loginUrl}/${d.tenant}`, knownAuthorities: [new URL(d.loginUrl).host] };
    const credentials = [
      { clientSecret: d.clientSecret },
      { clientCertificate: { thumbprintSha256: d.certificateThumbprintSha256, privateKey: d.privateKeyPem! } },
      { clientCertificate: { thumbprint: d.certificateThumbprint, privateKey: d.privateKeyPem! } },
    ];
    for (const credential of credentials) {
      const app = new ConfidentialClientApplication({ auth: { ...auth, ...credential }, system: { networkClient } });
      const result = await app.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE], skipCache: true });
      assert.ok(result?.accessToken);
      assert.equal((await call(d, 'GET', users(d, ANA, '/mailFolders/inbox'), { token: result.accessToken })).status, 200);
    }
  });
});

describe('graph double: Graph authentication', () => {
  it('wants a live Graph token: none, unknown, Exchange Online audience or expired is 401 InvalidAuthenticationToken', async () => {
    const { d, token } = await started({ mailboxes: [ANA], tokenLifetimeSeconds: 2 });
    try {
      const url = users(d, ANA, '/mailFolders/inbox');
      const ok = await call(d, 'GET', url, { token, headers: { 'client-request-id': 'cr-1' } });
      assert.equal(ok.status, 200);
      assert.match(String(ok.headers['request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(ok.headers['client-request-id'], 'cr-1');
      const outlook = await secretToken(d, 'https://outlook.office365.com/.default');
      const cases: [string | undefined, RegExp][] = [[undefined, /empty/], ['nope', /validation failure/], [outlook, /Invalid audience/]];
      for (const [t, message] of cases) {
        const r = await call(d, 'GET', url, t ? { token: t } : {});
        assert.equal(r.status, 401);
        assert.equal(r.json.error.code, 'InvalidAuthenticationToken');
        assert.match(r.json.error.message, message);
        assert.equal(r.json.error.innerError['request-id'], r.headers['request-id']);
        assert.match(String(r.headers['www-authenticate']), /^Bearer /);
      }
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const late = await call(d, 'GET', url, { token });
      assert.equal(late.status, 401);
      assert.equal(late.json.error.message, 'Lifetime validation failed, the token is expired.');
    } finally {
      await d.stop();
    }
  });
});

describe('graph double: folders and users', () => {
  let d: GraphDouble;
  let token: string;
  before(async () => ({ d, token } = await started({ mailboxes: [{ address: ANA, proxyAddresses: [`SMTP:${ANA}`, 'smtp:ana@contoso.onmicrosoft.com'] }, BEN, { address: 'nomail@contoso.com', mailboxEnabled: false }] })));
  after(() => d.stop());

  it('finds well-known folders by name in any case and by id; an unknown folder is 404 ErrorItemNotFound', async () => {
    const inbox = await call(d, 'GET', users(d, ANA, '/mailFolders/Inbox'), { token });
    assert.equal(inbox.status, 200);
    assert.equal(inbox.json.displayName, 'Inbox');
    assert.match(inbox.json.id, /^AAMk[A-Za-z0-9_-]+=$/);
    assert.equal((await call(d, 'GET', users(d, ANA, `/mailFolders/${inbox.json.id}`), { token })).json.displayName, 'Inbox');
    const root = await call(d, 'GET', users(d, ANA, '/mailFolders/msgfolderroot'), { token });
    assert.equal(inbox.json.parentFolderId, root.json.id);
    const top = await call(d, 'GET', users(d, ANA, '/mailFolders?$top=100'), { token });
    assert.ok(top.json.value.some((f: { id: string }) => f.id === inbox.json.id));
    const missing = await call(d, 'GET', users(d, ANA, '/mailFolders/AAMkAGnope='), { token });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'ErrorItemNotFound');
  });

  it('finds a child folder by $filter, creates it (201), and answers 409 ErrorFolderExists for the same name in any case', async () => {
    assert.deepEqual((await folderByName(d, token, ANA, 'inbox', 'XIP')).json.value, []);
    const made = await createChild(d, token, ANA, 'inbox', 'XIP');
    assert.equal(made.status, 201);
    assert.equal(made.json.displayName, 'XIP');
    const found = await folderByName(d, token, ANA, 'inbox', 'XIP');
    assert.deepEqual(found.json.value, [{ id: made.json.id, displayName: 'XIP' }]);
    for (const again of ['XIP', 'xip']) {
      const r = await createChild(d, token, ANA, 'inbox', again);
      assert.equal(r.status, 409);
      assert.equal(r.json.error.code, 'ErrorFolderExists');
    }
    const quoted = await createChild(d, token, ANA, made.json.id, "Bob's");
    assert.equal((await folderByName(d, token, ANA, made.json.id, "Bob's")).json.value[0].id, quoted.json.id);
    assert.equal((await call(d, 'GET', users(d, ANA, `/mailFolders/inbox/childFolders?$filter=${encodeURIComponent("displayName eq 'Bob's'")}`), { token })).status, 400);
    assert.ok(d.folders(ANA).some((f) => f.path === "Inbox/XIP/Bob's"));
    const pre = d.createFolder(ANA, 'Inbox/Archive 2023/Q1');
    const level = await folderByName(d, token, ANA, 'inbox', 'Archive 2023');
    assert.equal((await folderByName(d, token, ANA, level.json.value[0].id, 'Q1')).json.value[0].id, pre);
  });

  it('pages child folders with @odata.nextLink back to the double, and hides hidden folders unless asked', async () => {
    const parent = d.createFolder(BEN, 'Inbox/Many');
    for (let i = 0; i < 5; i++) d.createFolder(BEN, `Inbox/Many/f${i}`);
    await createChild(d, token, BEN, parent, 'secret', true);
    const names: string[] = [];
    let next: string | undefined = users(d, BEN, `/mailFolders/${parent}/childFolders?$top=2`);
    while (next) {
      assert.ok(next.startsWith(`${d.url}/v1.0/`), next);
      const page: Reply = await call(d, 'GET', next, { token });
      assert.ok(page.json.value.length <= 2);
      names.push(...page.json.value.map((f: { displayName: string }) => f.displayName));
      next = page.json['@odata.nextLink'];
    }
    assert.deepEqual(names, ['f0', 'f1', 'f2', 'f3', 'f4']);
    const all = await call(d, 'GET', users(d, BEN, `/mailFolders/${parent}/childFolders?includeHiddenFolders=true`), { token });
    assert.equal(all.json.value.length, 6);
  });

  it('resolves a mailbox by UPN, proxy address or id in any case; unknown and mailbox-less users are 404 with their codes', async () => {
    for (const u of [ANA.toUpperCase(), 'ana@contoso.onmicrosoft.com', d.userId(ANA)]) assert.equal((await call(d, 'GET', users(d, u, '/mailFolders/inbox'), { token })).status, 200, u);
    const unknown = await call(d, 'GET', users(d, 'who@contoso.com', '/mailFolders/inbox'), { token });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'ErrorInvalidUser');
    assert.equal(unknown.json.error.message, "The requested user 'who@contoso.com' is invalid.");
    const nomail = await call(d, 'GET', users(d, 'nomail@contoso.com', '/mailFolders/inbox'), { token });
    assert.equal(nomail.status, 404);
    assert.equal(nomail.json.error.code, 'MailboxNotEnabledForRESTAPI');
    assert.equal((await call(d, 'GET', `${d.url}/v1.0/me/mailFolders`, { token })).status, 400);
    d.addMailbox('leaver@contoso.com');
    assert.equal((await call(d, 'GET', users(d, 'leaver@contoso.com', '/mailFolders/inbox'), { token })).status, 200);
    d.removeMailbox('leaver@contoso.com');
    assert.equal((await call(d, 'GET', users(d, 'leaver@contoso.com', '/mailFolders/inbox'), { token })).json.error.code, 'ErrorInvalidUser');
    assert.equal((await importMime(d, token, ANA, 'inbox', mime('<x@y>').toString('base64'))).status, 201, 'importMime is beta');
    const wrongVersion = await call(d, 'POST', users(d, ANA, '/mailFolders/inbox/importMime'), { token, headers: { 'content-type': 'text/plain' }, body: 'AAAA' });
    assert.equal(wrongVersion.status, 400);
  });

  it('lists users with $select and $top, paging by $skiptoken; proxyAddresses only when selected; no mail without a mailbox', async () => {
    const seen: Record<string, unknown>[] = [];
    let next: string | undefined = `${d.url}/v1.0/users?$select=id,displayName,mail,userPrincipalName,proxyAddresses&$top=2`;
    while (next) {
      const page: Reply = await call(d, 'GET', next, { token });
      assert.equal(page.status, 200);
      seen.push(...page.json.value);
      next = page.json['@odata.nextLink'];
      if (next) assert.match(next, /\$skiptoken=|%24skiptoken=/);
    }
    assert.deepEqual(seen.map((u) => u.userPrincipalName), [ANA, BEN, 'nomail@contoso.com']);
    assert.deepEqual(seen[0]!.proxyAddresses, [`SMTP:${ANA}`, 'smtp:ana@contoso.onmicrosoft.com']);
    assert.equal(seen[2]!.mail, null);
    const plain = await call(d, 'GET', `${d.url}/v1.0/users`, { token });
    assert.equal(plain.json.value[0].proxyAddresses, undefined);
    assert.equal(plain.json.value[0].mail, ANA);
    assert.equal((await call(d, 'GET', `${d.url}/v1.0/users?$top=1000`, { token })).status, 400);
    assert.equal((await call(d, 'GET', `${d.url}/v1.0/users?$skip=1`, { token })).status, 400);
  });
});

describe('graph double: importMime and look-ups', () => {
  let d: GraphDouble;
  let token: string;
  before(async () => ({ d, token } = await started({ mailboxes: [ANA, BEN], maxRequestBytes: 64 * 1024, maxMessageBytes: 20 * 1024 })));
  after(() => d.stop());

  it('imports a non-draft message (201) and stores the decoded MIME byte for byte', async () => {
    const folder = d.createFolder(ANA, 'Inbox/XIP');
    const octets = Buffer.concat([mime('<a.1@example.com>', 'caf\xe9 \x00 bytes\r\n.\r\nend'), Buffer.from([0xff, 0xfe, 0x0a])]);
    const r = await importMime(d, token, ANA, folder, octets.toString('base64').replace(/.{76}/g, '$&\r\n'));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.isDraft, false);
    assert.equal(r.json.isRead, false);
    assert.equal(r.json.internetMessageId, '<a.1@example.com>');
    assert.equal(r.json.parentFolderId, folder);
    assert.equal(r.json.subject, 'café');
    assert.equal(r.json.from.emailAddress.address, 'ana@example.com');
    assert.equal(r.json.sentDateTime, '2024-01-02T10:00:00Z');
    const stored = d.messages(ANA, 'Inbox/XIP');
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.id, r.json.id);
    assert.ok(stored[0]!.mime.equals(octets));
  });

  it('refuses a body that is not base64 (400), not text/plain (415), over the request limit (413) or over the mailbox limit (413)', async () => {
    const folder = d.createFolder(ANA, 'Inbox/Refused');
    const bad = await importMime(d, token, ANA, folder, 'this is not base64!');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'ErrorMimeContentInvalidBase64String');
    assert.equal((await importMime(d, token, ANA, folder, mime('<j@x>').toString('base64'), 'application/json')).status, 415);
    const huge = await importMime(d, token, ANA, folder, Buffer.alloc(48 * 1024, 'a').toString('base64'));
    assert.equal(huge.status, 413);
    const big = await importMime(d, token, ANA, folder, mime('<big@x>', 'x'.repeat(30 * 1024)).toString('base64'));
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'ErrorMessageSizeExceeded');
    assert.equal(d.messages(ANA, 'Inbox/Refused').length, 0);
    assert.equal((await importMime(d, token, ANA, folder, mime('<after@x>').toString('base64'))).status, 201, 'the connection still serves after a 413');
  });

  it("finds a message by internetMessageId with a quote in it (doubled, URL-encoded); '+' must be encoded", async () => {
    const folder = d.createFolder(BEN, 'Inbox/Lookup');
    const id = "<o'brien+1@example.com>";
    await importMime(d, token, BEN, folder, mime(id).toString('base64'));
    await importMime(d, token, BEN, folder, mime('<other@example.com>').toString('base64'));
    const filter = (v: string): string => encodeURIComponent(`internetMessageId eq '${v.replaceAll("'", "''")}'`);
    const r = await call(d, 'GET', users(d, BEN, `/mailFolders/${folder}/messages?$filter=${filter(id)}&$select=id,internetMessageId`), { token });
    assert.equal(r.status, 200);
    assert.equal(r.json.value.length, 1);
    assert.equal(r.json.value[0].internetMessageId, id);
    assert.deepEqual(Object.keys(r.json.value[0]).filter((k) => !k.startsWith('@odata')).sort(), ['id', 'internetMessageId']);
    const raw = await call(d, 'GET', users(d, BEN, `/mailFolders/${folder}/messages?$filter=${filter(id).replace('%2B', '+')}`), { token });
    assert.deepEqual(raw.json.value, []);
    assert.equal((await call(d, 'GET', users(d, BEN, `/mailFolders/${folder}/messages?$filter=subject eq 'x'`), { token })).status, 400);
    assert.equal((await call(d, 'GET', users(d, BEN, '/mailFolders/AAMkAGnope=/messages'), { token })).json.error.code, 'ErrorItemNotFound');
  });

  it('pages messages 10 at a time by default, $top up to 1000, with $skip in the nextLink', async () => {
    const folder = d.createFolder(BEN, 'Inbox/Paged');
    for (let i = 0; i < 25; i++) d.addMessage(BEN, 'Inbox/Paged', mime(`<p${i}@example.com>`));
    const first = await call(d, 'GET', users(d, BEN, `/mailFolders/${folder}/messages`), { token });
    assert.equal(first.json.value.length, 10);
    assert.match(first.json['@odata.nextLink'], /%24skip=10/);
    const ids = new Set<string>();
    let next: string | undefined = users(d, BEN, `/mailFolders/${folder}/messages?$select=internetMessageId&$top=7`);
    while (next) {
      const page: Reply = await call(d, 'GET', next, { token });
      for (const m of page.json.value) ids.add(m.internetMessageId);
      next = page.json['@odata.nextLink'];
    }
    assert.equal(ids.size, 25);
    assert.equal((await call(d, 'GET', users(d, BEN, `/mailFolders/${folder}/messages?$top=1001`), { token })).status, 400);
  });
});

describe('graph double: Outlook limits per mailbox', () => {
  it('answers a 5th concurrent request to one mailbox 429 MailboxConcurrency with Retry-After; other mailboxes are not affected', async () => {
    const { d, token } = await started({ mailboxes: [ANA, BEN], latencyMs: 800 });
    try {
      const url = (m: string): string => users(d, m, '/mailFolders/inbox');
      // open the connections first (the directory is not a mailbox), so that the burst arrives at once
      await Promise.all(Array.from({ length: 9 }, () => call(d, 'GET', `${d.url}/v1.0/users`, { token })));
      const replies = await Promise.all([...Array(5).fill(ANA), ...Array(4).fill(BEN)].map((m: string) => call(d, 'GET', url(m), { token })));
      const ana = replies.slice(0, 5);
      assert.equal(ana.filter((r) => r.status === 200).length, 4);
      const throttled = ana.find((r) => r.status === 429)!;
      assert.equal(throttled.json.error.code, 'ApplicationThrottled');
      assert.equal(throttled.json.error.message, 'Application is over its MailboxConcurrency limit.');
      assert.ok(Number(throttled.headers['retry-after']) >= 1);
      assert.ok(replies.slice(5).every((r) => r.status === 200));
      const s = d.stats();
      assert.deepEqual({ ...s.get(ANA)!, uploadBytes: 0 }, { requests: 5, throttled: 1, maxInFlight: 5, uploadBytes: 0, overLimit: 1 });
      assert.equal(s.get(BEN)!.overLimit, 0);
      assert.equal(s.get(BEN)!.maxInFlight, 4);
    } finally {
      await d.stop();
    }
  });

  it('answers over the request budget 429 with Retry-After until the sliding window frees a slot', async () => {
    const { d, token } = await started({ mailboxes: [ANA, BEN], limits: { requests: 3, windowMs: 1500 } });
    try {
      const get = (m: string): Promise<Reply> => call(d, 'GET', users(d, m, '/mailFolders/inbox/childFolders'), { token });
      for (let i = 0; i < 3; i++) assert.equal((await get(ANA)).status, 200);
      const over = await get(ANA);
      assert.equal(over.status, 429);
      assert.equal(over.json.error.code, 'ApplicationThrottled');
      const wait = Number(over.headers['retry-after']);
      assert.ok(wait >= 1 && wait <= 2, String(wait));
      assert.equal((await get(BEN)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      assert.equal((await get(ANA)).status, 200);
      assert.equal(d.stats().get(ANA)!.overLimit, 1);
    } finally {
      await d.stop();
    }
  });

  it('answers over the upload budget 429 IncomingBytes with Retry-After', async () => {
    const { d, token } = await started({ mailboxes: [ANA], limits: { uploadBytes: 10_000, uploadWindowMs: 60_000 } });
    try {
      const body = mime('<u@x>', 'y'.repeat(4000)).toString('base64');
      assert.equal((await importMime(d, token, ANA, 'inbox', body)).status, 201);
      const over = await importMime(d, token, ANA, 'inbox', body);
      assert.equal(over.status, 429);
      assert.equal(over.json.error.message, 'Application is over its IncomingBytes limit.');
      assert.ok(Number(over.headers['retry-after']) >= 59);
      assert.equal((await call(d, 'GET', users(d, ANA, '/mailFolders/inbox'), { token })).status, 200, 'reads have no body to count');
      const s = d.stats().get(ANA)!;
      assert.equal(s.uploadBytes, body.length);
      assert.equal(s.overLimit, 1);
      assert.equal(d.messages(ANA, 'Inbox').length, 1);
    } finally {
      await d.stop();
    }
  });
});

describe('graph double: injected faults', () => {
  let d: GraphDouble;
  let token: string;
  before(async () => ({ d, token } = await started({ mailboxes: [ANA, BEN] })));
  after(() => d.stop());
  const body = (id: string): string => mime(id).toString('base64');

  it('answers the next matching requests as armed (503 with Retry-After, 500 with a body), then normally', async () => {
    d.fail({ mailbox: ANA, path: /importMime/, status: 503, retryAfterSeconds: 7, times: 2 });
    d.fail({ mailbox: BEN, method: 'GET', status: 500, body: { error: { code: 'Boom', message: 'boom' } } });
    for (let i = 0; i < 2; i++) {
      const r = await importMime(d, token, ANA, 'inbox', body('<f1@x>'));
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '7');
      assert.equal(r.json.error.code, 'ServiceUnavailable');
    }
    assert.equal((await importMime(d, token, ANA, 'inbox', body('<f1@x>'))).status, 201);
    assert.equal(d.messages(ANA, 'Inbox').length, 1);
    const boom = await call(d, 'GET', users(d, BEN, '/mailFolders/inbox'), { token });
    assert.deepEqual([boom.status, boom.json.error.code], [500, 'Boom']);
    d.fail({ path: /oauth2\/v2\.0\/token/, status: 503, retryAfterSeconds: 1 });
    assert.equal((await tokenRequest(d, { client_secret: d.clientSecret })).status, 503);
  });

  it("drops the connection after storing (the client can't know) or before reading the body (nothing stored)", async () => {
    d.fail({ mailbox: BEN, path: /importMime/, drop: 'after-store' });
    await assert.rejects(importMime(d, token, BEN, 'inbox', body('<after@x>')), /socket hang up|ECONNRESET/);
    assert.deepEqual(d.messages(BEN, 'Inbox').map((m) => m.internetMessageId), ['<after@x>']);
    d.fail({ mailbox: BEN, path: /importMime/, drop: 'before-store' });
    await assert.rejects(importMime(d, token, BEN, 'inbox', body('<before@x>')), /socket hang up|ECONNRESET/);
    assert.equal(d.messages(BEN, 'Inbox').length, 1);
    const dropped = d.requestLog.filter((e) => e.mailbox === BEN && e.status === 0);
    assert.equal(dropped.length, 2);
    assert.equal((await importMime(d, token, BEN, 'inbox', body('<next@x>'))).status, 201);
  });
});

describe('graph double: introspection (double-only, RFC 7662)', () => {
  it('answers active with client_id, scope, aud and exp for a live token, inactive otherwise, in Dovecot’s three modes', async () => {
    const { d, token } = await started({ mailboxes: [ANA], tokenLifetimeSeconds: 2 });
    try {
      const imap = await secretToken(d, 'https://outlook.office365.com/.default');
      const viaPost = await call(d, 'POST', d.introspectionUrl, { headers: FORM, body: form({ token: imap, client_id: '', client_secret: '' }) });
      assert.equal(viaPost.json.active, true);
      assert.equal(viaPost.json.client_id, d.clientId);
      assert.equal(viaPost.json.aud, 'https://outlook.office365.com');
      assert.equal(viaPost.json.scope, 'https://outlook.office365.com/.default');
      assert.ok(viaPost.json.exp > Date.now() / 1000);
      assert.equal((await call(d, 'GET', d.introspectionUrl, { token })).json.active, true);
      assert.equal((await call(d, 'GET', `${d.introspectionUrl}?token=${encodeURIComponent(token)}`)).json.active, true);
      assert.deepEqual((await call(d, 'POST', d.introspectionUrl, { headers: FORM, body: form({ token: 'forged' }) })).json, { active: false });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      assert.deepEqual((await call(d, 'POST', d.introspectionUrl, { headers: FORM, body: form({ token: imap }) })).json, { active: false });
    } finally {
      await d.stop();
    }
  });
});

describe('graph double: in a child process (main.ts)', () => {
  it('prints where it listens, serves, reports stats through its control API, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/graph-double/main.ts', JSON.stringify({ mailboxes: [ANA] })], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const info = JSON.parse(line) as { url: string; loginUrl: string; controlUrl: string; caPath: string; tenant: string; clientId: string; clientSecret: string };
      const { readFileSync } = await import('node:fs');
      const d = { caPem: readFileSync(info.caPath, 'utf8'), ...info } as unknown as GraphDouble;
      const t = await call(d, 'POST', `${info.loginUrl}/${info.tenant}/oauth2/v2.0/token`, { headers: FORM, body: form({ grant_type: 'client_credentials', client_id: info.clientId, client_secret: info.clientSecret, scope: GRAPH_SCOPE }) });
      assert.equal((await call(d, 'GET', users(d, ANA, '/mailFolders/inbox'), { token: t.json.access_token })).status, 200);
      assert.equal((await call(d, 'GET', `${info.controlUrl}/stats`)).json[ANA].requests, 1);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      agentFor(d).destroy();
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
