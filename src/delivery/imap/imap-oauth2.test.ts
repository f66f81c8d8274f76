// The IMAP target with app-only OAuth 2.0 (auth 'oauth2-app', oauth2.ts)
// against a real Dovecot 2.3 that takes bearer tokens
// (test/support/dovecot-oauth2.ts) checked at the introspection stand-in
// (test/support/oauth2-introspection.ts, a fake for the authorization
// server). Dovecot offers AUTH=XOAUTH2 only, as Exchange Online does, except
// where a case says otherwise.
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type Dovecot, type StartDovecotOptions } from '../../../test/support/dovecot.js';
import { listFolders, openAs, readFolder } from '../../../test/support/imap-read.js';
import { testMessages } from '../../../test/support/messages.js';
import { DEFAULT_SCOPE, startOAuth2Introspection, type OAuth2IntrospectionStandIn } from '../../../test/support/oauth2-introspection.js';
import { isDeliveryError } from '../errors.js';
import type { DeliveryOutcome } from '../port.js';
import { mailboxTargetContract } from '../test-support/contract.js';
import { createImapTarget, type ImapTargetOptions } from './index.js';
import { commandLog } from './test-support/command-log.js';
import { imapSubject } from './test-support/imap-subject.js';
import { parseImapUrl } from './url.js';

const USERS = ['ana@corp.example', 'bo@corp.example', 'cy@corp.example', 'di@corp.example', 'eve@corp.example'];
const FAST_RETRY = { retries: 3, baseDelayMs: 10, maxDelayMs: 50 };
const dovecotPath = (folder: string): string => folder.replace(/^inbox(?=\/|$)/i, 'INBOX').split('/').join('.');
const logins = (lines: string[]): string[] => lines.filter((l) => /^\S+ (AUTHENTICATE|LOGIN) /.test(l));

/**
 * The app's token source as a caller would write it: one token, cached until
 * it expires, then a new one. The first token may be given a shorter life.
 */
function appTokens(intro: OAuth2IntrospectionStandIn, firstLifetimeMs = 3_600_000): { source: () => Promise<string>; issued: string[]; calls: () => number } {
  const issued: string[] = [];
  let current: { token: string; expiresAt: number } | undefined;
  let calls = 0;
  const source = (): Promise<string> => {
    calls++;
    if (!current || Date.now() >= current.expiresAt) {
      const lifetimeMs = issued.length === 0 ? firstLifetimeMs : 3_600_000;
      const expiresAt = Date.now() + lifetimeMs; // taken before issuing: never later than the server's expiry
      current = { token: intro.issue({ lifetimeMs }), expiresAt };
      issued.push(current.token);
    }
    return Promise.resolve(current.token);
  };
  return { source, issued, calls: () => calls };
}

async function startOAuth2Dovecot(options: Partial<StartDovecotOptions> = {}): Promise<{ dovecot: Dovecot; intro: OAuth2IntrospectionStandIn }> {
  const intro = await startOAuth2Introspection();
  try {
    const dovecot = await startDovecot({ users: USERS, oauth2: { introspectionUrl: intro.url, mechanisms: ['xoauth2'], scope: DEFAULT_SCOPE }, ...options });
    return { dovecot, intro };
  } catch (e) {
    await intro.close();
    throw e;
  }
}

function refsOf(outcomes: DeliveryOutcome[]): string[] {
  return outcomes.map((o) => {
    assert.ok(o.status === 'delivered', `not delivered: ${JSON.stringify(o)}`);
    return o.ref;
  });
}

/**
 * What Exchange Online does when a session's token expires, and Dovecot does
 * not (it checks a token at the login only): a TCP front, in process (a fake,
 * named so), that notes the token each session logged in with (the SASL-IR
 * payload of AUTHENTICATE XOAUTH2) and, before passing on the client's next
 * bytes, asks the introspection endpoint about it; once the token is no
 * longer live it answers as Exchange does and closes the connection: "* BYE
 * Session invalidated - AccessTokenExpired", as reported from Exchange Online
 * in https://github.com/imapsync/imapsync/issues/250 and
 * https://github.com/joeyates/imap-backup/issues/198.
 */
async function startExpiryGuard(upstream: { host: string; port: number }, introspectionUrl: string): Promise<{ port: number; byes: () => number; close: () => Promise<void> }> {
  let byes = 0;
  const open = new Set<Socket>();
  const live = async (token: string): Promise<boolean> => {
    const res = await fetch(introspectionUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
    return ((await res.json()) as { active?: unknown }).active === true;
  };
  const server = createServer((client) => {
    const dovecot = createConnection(upstream);
    for (const s of [client, dovecot]) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        dovecot.destroy();
      });
    }
    dovecot.on('data', (d: Buffer) => client.write(d));
    let token: string | undefined;
    let seen = '';
    let ended = false; // once the BYE is sent, the client's later bytes (already on the wire) are dropped, as Exchange does
    let queue = Promise.resolve();
    client.on('data', (d: Buffer) => {
      const step = async (): Promise<void> => {
        if (ended || client.destroyed) return;
        if (token !== undefined && !(await live(token))) {
          ended = true;
          byes++; // one per session ended
          client.end('* BYE Session invalidated - AccessTokenExpired\r\n', () => dovecot.destroy());
          return;
        }
        dovecot.write(d);
        if (token === undefined) {
          seen += d.toString('latin1');
          const ir = /AUTHENTICATE XOAUTH2 ([A-Za-z0-9+/=]+)\r\n/.exec(seen)?.[1];
          const fields = ir ? Buffer.from(ir, 'base64').toString('latin1').split('\x01') : [];
          token = fields.find((f) => f.startsWith('auth=Bearer '))?.slice('auth=Bearer '.length);
        }
      };
      queue = queue.then(step).catch(() => {
        client.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    byes: () => byes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// The contract, every login by XOAUTH2 with the app's token. The subject's URL names the master user and
// passes its password: 'oauth2-app' uses neither (password is taken away below).
let contractLog = '';
const contractCommands = commandLog();
let contractTokens: ReturnType<typeof appTokens> | undefined;
mailboxTargetContract(
  imapSubject({
    name: 'IMAP on Dovecot 2.3 with app-only OAuth 2.0 tokens (XOAUTH2)',
    mailbox: USERS[0]!,
    serverPath: dovecotPath,
    targetOptions: {
      auth: 'oauth2-app',
      password: undefined,
      accessToken: () => contractTokens!.source(),
      logger: contractCommands.logger,
    },
    async start() {
      const { dovecot, intro } = await startOAuth2Dovecot();
      contractTokens = appTokens(intro);
      return {
        host: dovecot.host,
        port: dovecot.port,
        adminUser: dovecot.masterUser,
        adminPassword: dovecot.masterPassword,
        openAs: (mailbox) => openAs(dovecot, mailbox),
        async stop() {
          contractLog = await dovecot.log();
          await dovecot.stop();
          await intro.close();
        },
      };
    },
  }),
);

it('the contract logged in by AUTHENTICATE XOAUTH2 only, as the mailbox, with a token asked for each login', () => {
  const lines = logins(contractCommands.lines);
  assert.ok(lines.length > 0, 'the contract logged in');
  for (const l of lines) assert.match(l, /^\S+ AUTHENTICATE XOAUTH2 "\(\* value hidden \*\)"$/);
  // Asked before each connection: also for those the fault proxy refused before any login.
  assert.ok(contractTokens!.calls() >= lines.length, 'the token source is asked for each login');
  const xoauth2 = contractLog.match(/Login: user=<ana@corp\.example>, method=XOAUTH2,/g) ?? [];
  assert.equal(xoauth2.length, lines.length, "Dovecot's log shows each as an XOAUTH2 login of the mailbox");
  for (const token of contractTokens!.issued) assert.ok(!contractCommands.lines.some((l) => l.includes(token)), 'no token in the command log');
});

describe('IMAP target with app-only OAuth 2.0 tokens against Dovecot', () => {
  let dovecot: Dovecot;
  let intro: OAuth2IntrospectionStandIn;
  const url = (port = dovecot.port): string => `imap://127.0.0.1:${port}?starttls=never&auth=oauth2-app`;
  const target = (o: Partial<ImapTargetOptions> & Pick<ImapTargetOptions, 'accessToken'>) => createImapTarget({ url: url(), batchSize: 4, retry: FAST_RETRY, ...o });

  before(async () => {
    ({ dovecot, intro } = await startOAuth2Dovecot());
  });
  after(async () => {
    await dovecot?.stop();
    await intro?.close();
  });

  it('logs in to each mailbox as itself by AUTHENTICATE XOAUTH2 with the token of the moment: no user in the URL, no password', async () => {
    const tokens = appTokens(intro);
    const log = commandLog();
    const t = target({ accessToken: tokens.source, logger: log.logger });
    try {
      refsOf(await t.deliverBatch('ana@corp.example', 'Inbox/App', testMessages('app-ana', 5)));
      refsOf(await t.deliverBatch('bo@corp.example', 'Inbox/App', testMessages('app-bo', 5)));
      refsOf(await t.deliverBatch('ana@corp.example', 'Inbox/App', testMessages('app-ana-2', 3)));
      assert.deepEqual(logins(log.lines).map((l) => l.replace(/^\S+ /, '')), ['AUTHENTICATE XOAUTH2 "(* value hidden *)"', 'AUTHENTICATE XOAUTH2 "(* value hidden *)"'], 'one login per mailbox, kept');
      assert.equal(tokens.calls(), 2, 'the token source is asked at each login');
      assert.ok(!log.lines.some((l) => l.includes(tokens.issued[0]!)), 'the token is not in the command log');
      const text = await dovecot.log();
      for (const user of ['ana@corp.example', 'bo@corp.example']) assert.match(text, new RegExp(`Login: user=<${user.replace(/\./g, '\\.')}>, method=XOAUTH2,`));
      assert.equal((await readFolder(dovecot, 'ana@corp.example', 'INBOX.App')).length, 8);
      assert.equal((await readFolder(dovecot, 'bo@corp.example', 'INBOX.App')).length, 5);
    } finally {
      await t.close();
    }
  });

  it('a refused (revoked) token before any login worked is TARGET_AUTH_FAILED, stores nothing, and names no token', async () => {
    const revoked = intro.issue();
    intro.revoke(revoked);
    const t = target({ accessToken: () => Promise.resolve(revoked) });
    try {
      await assert.rejects(t.deliverBatch('cy@corp.example', 'Inbox/Revoked', testMessages('revoked', 3)), (e: unknown) => {
        assert.ok(isDeliveryError(e) && e.code === 'TARGET_AUTH_FAILED', String(e));
        assert.match(e.message, /cy@corp\.example \(oauth2-app\): login refused \[AUTHENTICATIONFAILED\]/);
        assert.ok(!e.message.includes(revoked) && !JSON.stringify(e.partial).includes(revoked), 'no token in the error');
        assert.ok(e.partial.every((o) => o.status === 'failed'), JSON.stringify(e.partial));
        return true;
      });
      assert.ok(intro.refused(revoked), 'Dovecot asked, and the endpoint answered inactive');
      assert.deepEqual((await listFolders(dovecot, 'cy@corp.example')).paths, ['INBOX'], 'nothing stored');
    } finally {
      await t.close();
    }
  });

  it('a token source that throws is TARGET_AUTH_FAILED with its message, and nothing is tried', async () => {
    const log = commandLog();
    const calls = intro.calls;
    const t = target({ accessToken: () => Promise.reject(new Error('AADSTS7000215: Invalid client secret provided.')), logger: log.logger });
    try {
      await assert.rejects(t.deliverBatch('cy@corp.example', 'Inbox/NoToken', testMessages('no-token', 2)), (e: unknown) => {
        assert.ok(isDeliveryError(e) && e.code === 'TARGET_AUTH_FAILED', String(e));
        assert.match(e.message, /acting for cy@corp\.example: the access token could not be obtained: AADSTS7000215: Invalid client secret provided\./);
        return true;
      });
      assert.deepEqual(logins(log.lines), [], 'no login was tried');
      assert.equal(intro.calls, calls, 'no token reached Dovecot');
      const empty = target({ accessToken: () => Promise.resolve('') });
      await assert.rejects(empty.findExisting('cy@corp.example', 'Inbox/NoToken', ['<x@xip.test>']), (e: unknown) => isDeliveryError(e) && e.code === 'TARGET_AUTH_FAILED' && /an empty token/.test(e.message));
      await empty.close();
    } finally {
      await t.close();
    }
  });

  it('once a login worked, a mailbox Dovecot does not know is MAILBOX_NOT_FOUND for its copies, and the others are delivered', async () => {
    const tokens = appTokens(intro);
    const t = target({ accessToken: tokens.source });
    const messages = testMessages('unknown-mailbox', 3);
    try {
      refsOf(await t.deliverBatch('di@corp.example', 'Inbox/Known', messages));
      const nobody = await t.deliverBatch('nobody@corp.example', 'Inbox/Known', messages);
      for (const o of nobody) {
        assert.ok(o.status === 'failed' && o.code === 'MAILBOX_NOT_FOUND', JSON.stringify(o));
        assert.match(o.reason, /the server refused the application's token acting for nobody@corp\.example: login refused \[AUTHENTICATIONFAILED\]/);
        assert.ok(!o.reason.includes(tokens.issued[0]!), 'no token in the reason');
      }
      refsOf(await t.deliverBatch('eve@corp.example', 'Inbox/Known', messages));
      assert.equal((await readFolder(dovecot, 'di@corp.example', 'INBOX.Known')).length, 3);
      assert.equal((await readFolder(dovecot, 'eve@corp.example', 'INBOX.Known')).length, 3);
      assert.ok(!intro.answers.some((a) => tokens.issued.includes(a.token) && !a.active), 'the token itself was live throughout');
    } finally {
      await t.close();
    }
  });

  it('a token that expires mid-run: the session is ended, the target logs in again with a renewed token, and every message is stored once', async () => {
    const guard = await startExpiryGuard({ host: dovecot.host, port: dovecot.port }, intro.url);
    const lifetimeMs = 1500; // the first token's; the renewed one lives an hour
    const tokens = appTokens(intro, lifetimeMs);
    const log = commandLog();
    const t = target({ url: url(guard.port), accessToken: tokens.source, logger: log.logger });
    const first = testMessages('expiry-1', 8, undefined, 2000);
    const second = testMessages('expiry-2', 8, new Date('2026-11-23T13:00:00Z'), 2000);
    try {
      const outcomes = [...(await t.deliverBatch('ana@corp.example', 'Inbox/Expiry', first))];
      await new Promise((r) => setTimeout(r, lifetimeMs + 300)); // the session outlives its token
      outcomes.push(...(await t.deliverBatch('ana@corp.example', 'Inbox/Expiry', second)));
      const refs = refsOf(outcomes);
      assert.equal(guard.byes(), 1, 'the expired session was ended by the server');
      assert.ok(intro.refused(tokens.issued[0]!), 'the endpoint refused the expired token: the fault really happened');
      assert.equal(tokens.issued.length, 2, 'a renewed token');
      assert.equal(tokens.calls(), 2, 'the token source was asked again for the new login');
      assert.equal(logins(log.lines).length, 2, 'logged in again');
      const stored = await readFolder(dovecot, 'ana@corp.example', 'INBOX.Expiry');
      assert.deepEqual(stored.map((m) => m.messageId).sort(), [...first, ...second].map((m) => m.messageId).sort(), 'every message once');
      assert.deepEqual(stored.map((m) => m.ref).sort(), [...refs].sort());
    } finally {
      await t.close();
      await guard.close();
    }
  });
});

describe('IMAP target with app-only OAuth 2.0 tokens: what the server offers', () => {
  it('logs in by OAUTHBEARER where the server offers it beside XOAUTH2 (imapflow prefers it)', async () => {
    const intro = await startOAuth2Introspection();
    const both = await startDovecot({ users: USERS, oauth2: { introspectionUrl: intro.url } }); // both mechanisms, the default
    const log = commandLog();
    const t = createImapTarget({ url: `imap://127.0.0.1:${both.port}?starttls=never`, auth: 'oauth2-app', accessToken: appTokens(intro).source, logger: log.logger });
    try {
      refsOf(await t.deliverBatch('ana@corp.example', 'Inbox/Bearer', testMessages('bearer', 2)));
      assert.deepEqual(logins(log.lines).map((l) => l.replace(/^\S+ /, '')), ['AUTHENTICATE OAUTHBEARER "(* value hidden *)"']);
      assert.match(await both.log(), /Login: user=<ana@corp\.example>, method=OAUTHBEARER,/);
    } finally {
      await t.close();
      await both.stop();
      await intro.close();
    }
  });

  it('a server that offers no token login is TARGET_AUTH_FAILED, said so', async () => {
    const plain = await startDovecot({ users: USERS });
    const t = createImapTarget({ url: `imap://127.0.0.1:${plain.port}?starttls=never`, auth: 'oauth2-app', accessToken: () => Promise.resolve('some-token') });
    try {
      await assert.rejects(t.deliverBatch('ana@corp.example', 'Inbox/None', testMessages('none', 1)), (e: unknown) => {
        assert.ok(isDeliveryError(e) && e.code === 'TARGET_AUTH_FAILED', String(e));
        assert.match(e.message, /offers neither AUTH=XOAUTH2 nor AUTH=OAUTHBEARER/);
        return true;
      });
    } finally {
      await t.close();
      await plain.stop();
    }
  });
});

describe("createImapTarget and the URL with auth 'oauth2-app'", () => {
  const accessToken = (): Promise<string> => Promise.resolve('t');

  it('takes a URL without user and without password, from the URL option or the auth option', async () => {
    for (const t of [
      createImapTarget({ url: 'imaps://outlook.office365.com?auth=oauth2-app', accessToken }),
      createImapTarget({ url: 'imaps://outlook.office365.com', auth: 'oauth2-app', accessToken }),
      createImapTarget({ url: 'imaps://svc%40corp.example@outlook.office365.com', auth: 'oauth2-app', password: 'ignored', accessToken }),
    ]) {
      await t.close();
    }
    assert.equal(createImapTarget({ url: 'imaps://outlook.office365.com?auth=oauth2-app', accessToken }).description, 'imaps://outlook.office365.com?auth=oauth2-app');
    assert.deepEqual(parseImapUrl('imaps://outlook.office365.com?auth=oauth2-app'), {
      secure: true,
      host: 'outlook.office365.com',
      port: 993,
      user: '',
      auth: 'oauth2-app',
      starttls: undefined,
      description: 'imaps://outlook.office365.com?auth=oauth2-app',
    });
    assert.equal(parseImapUrl('imaps://outlook.office365.com', 'oauth2-app').user, '');
  });

  it('needs the token source; without oauth2-app it still needs a user and a password; never a password in the URL', () => {
    assert.throws(() => createImapTarget({ url: 'imaps://outlook.office365.com?auth=oauth2-app' }), /needs accessToken/);
    assert.throws(() => createImapTarget({ url: 'imaps://outlook.office365.com', accessToken }), /names no user/);
    assert.throws(() => createImapTarget({ url: 'imaps://outlook.office365.com?auth=auto', password: 'pw', accessToken }), /names no user/);
    assert.throws(() => createImapTarget({ url: 'imaps://admin@mail.corp.example', accessToken }), /password is required/);
    assert.throws(() => createImapTarget({ url: 'imaps://a:pw@outlook.office365.com?auth=oauth2-app', accessToken }), /holds a password/);
    assert.throws(() => parseImapUrl('imaps://outlook.office365.com?auth=oauth2'), /unknown URL option auth=oauth2 /);
  });
});
