// Single sign-on in the browser: the shipped `xip serve` with the --oidc-*
// flags (the client secret in XIP_OIDC_CLIENT_SECRET) pointing at the
// OpenID Provider contract double (support/oidc-double/, HTTPS with a
// throwaway CA: the server trusts it through NODE_EXTRA_CA_CERTS, Chromium
// through --ignore-certificate-errors-spki-list naming the double's key and
// no other), and Debian's Chromium clicking through it. The sign-in page
// offers "Sign in with <label>"; the double signs the configured user in at
// once and sends the browser back with a code; the role comes from the
// user's groups through --oidc-role-map: an auditor gets the audit trail
// (where the sign-in shows, method oidc) and no "Add connector", an admin
// the reverse; a user in no mapped group is back on /login with SSO_NO_ROLE
// and the catalogue's sentence, and no session. axe-core checks the sign-in
// page with the link, and with the refusal.
//
// The server listens on a port chosen beforehand (freePort) rather than
// --port 0: the redirect URL is a flag, registered at the provider, and
// must name the port before the server starts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { SSO_CODES } from '../../src/errors.js';
import { tempDir } from '../../src/xip/test-support/container.js';
import { describeViolations, seriousViolations, startChromium, type RunningChromium } from '../support/chromium.js';
import { startOidcDouble, type DoubleUser, type OidcDouble } from '../support/oidc-double/index.js';
import { freePort } from '../support/server-process.js';
import { heading, LAPTOP, newContext, pageState, removeDir, rowsWhen, serve, shown, textMatches, type Serving } from './console-fixture.js';

const LABEL = 'Contoso Entra ID';
const ADMINS = '33333333-cccc-4ccc-8ccc-000000000001';
const AUDITORS = '33333333-cccc-4ccc-8ccc-000000000002';
const VIEWERS = '33333333-cccc-4ccc-8ccc-000000000003';
const OTHERS = '33333333-cccc-4ccc-8ccc-000000000009';

/** In a group the role map does not name and in the auditors' group: an auditor. */
const AUDITOR: DoubleUser = { sub: 'subject-audra', preferred_username: 'audra@contoso.example', name: 'Audra Auditor', groups: [OTHERS, AUDITORS] };
const ADMIN: DoubleUser = { sub: 'subject-adam', preferred_username: 'adam@contoso.example', name: 'Adam Admin', groups: [ADMINS] };
/** In no group the role map names. */
const OUTSIDER: DoubleUser = { sub: 'subject-olga', preferred_username: 'olga@contoso.example', name: 'Olga Outsider', groups: [OTHERS] };

let dir: string | undefined;
let double: OidcDouble | undefined;
let server: Serving | undefined;
let chromium: RunningChromium | undefined;
let doubleOrigin: string;

before(async () => {
  dir = await tempDir('xip-e2e-sso-');
  double = await startOidcDouble();
  doubleOrigin = new URL(double.issuer).origin;
  const port = await freePort();
  const redirectUrl = `http://127.0.0.1:${port}/auth/oidc/callback`;
  double.redirectUris.add(redirectUrl);
  server = await serve(join(dir, 'var'), {
    port,
    args: [
      '--oidc-issuer', double.issuer,
      '--oidc-client-id', double.clientId,
      '--oidc-redirect-url', redirectUrl,
      '--oidc-label', LABEL,
      '--oidc-role-map', `${ADMINS}=connector-admin,${AUDITORS}=auditor,${VIEWERS}=viewer`,
    ],
    env: { NODE_EXTRA_CA_CERTS: double.caPath, XIP_OIDC_CLIENT_SECRET: double.clientSecret },
  });
  assert.equal(server.address, `http://127.0.0.1:${port}`);
  // Chromium trusts the double's one key (its certificate's CA is no CA of the system), nothing more.
  chromium = await startChromium({ args: [`--ignore-certificate-errors-spki-list=${double.spkiSha256}`] });
});

after(async () => {
  await chromium?.stop();
  await server?.stop();
  await double?.close();
  await removeDir(dir);
});

/** A fresh browser context (no cookies) that may reach the server and the double, and nothing else; its page; closed after `body`. */
async function inBrowser(body: (page: Page) => Promise<void>): Promise<void> {
  const context = await newContext(chromium!.browser, server!.address, LAPTOP, [doubleOrigin]);
  const page = await context.newPage();
  try {
    await body(page);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- the page then: ${await pageState(page)}\n--- the server's log:\n${server!.logs().slice(-3_000)}`, { cause: e });
  } finally {
    await context.close();
  }
}

/** The sign-in link the page offers. */
const ssoLink = (page: Page) => page.getByRole('link', { name: `Sign in with ${LABEL}`, exact: true });

/**
 * /login, the single sign-on link clicked, as `user` at the double; resolves
 * once the browser is back on the server, signed in (/connectors) or refused
 * (/login?error=CODE), with the path and query it landed on.
 */
async function signInAs(page: Page, user: DoubleUser): Promise<string> {
  double!.user = user;
  const atDouble: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).origin === doubleOrigin) atDouble.push(r.url());
  });
  const redeemed = double!.tokenRequests.length;
  await page.goto('/login');
  await shown(heading(page, 'Sign in'));
  await shown(ssoLink(page));
  await ssoLink(page).click();
  await page.waitForURL((url) => url.origin === server!.address && (url.pathname === '/connectors' || (url.pathname === '/login' && url.searchParams.has('error'))));
  assert.ok(atDouble.some((u) => new URL(u).pathname === `/${double!.tenantId}/oauth2/v2.0/authorize`), `the browser went to the provider's authorize endpoint: ${JSON.stringify(atDouble)}`);
  assert.deepEqual(double!.tokenRequests.slice(redeemed).map((t) => t.status), [200], 'the server redeemed the code once, accepted');
  const landed = new URL(page.url());
  return landed.pathname + landed.search;
}

/** GET /api/session from the page: who the browser is signed in as. */
function sessionIn(page: Page): Promise<{ status: number; body: { name?: string; role?: string; code?: string } }> {
  return page.evaluate(async () => {
    const r = await fetch('/api/session');
    return { status: r.status, body: (await r.json()) as { name?: string; role?: string; code?: string } };
  });
}

const mainNav = (page: Page) => page.getByRole('navigation', { name: 'Main' });
const addConnector = (page: Page) => page.getByRole('link', { name: 'Add connector' }).or(page.getByRole('button', { name: 'Add connector' }));

describe('console: single sign-on with OpenID Connect (xip serve --oidc-*, the provider a contract double)', () => {
  it('the sign-in page offers "Sign in with <label>" and has no serious or critical accessibility violation', async () => {
    await inBrowser(async (page) => {
      await page.goto('/login');
      await shown(heading(page, 'Sign in'));
      const link = await shown(ssoLink(page));
      assert.equal(await link.getAttribute('href'), '/auth/oidc/start');
      const violations = await seriousViolations(page);
      assert.deepEqual(violations, [], `/login with the single sign-on link: ${describeViolations(violations)}`);
    });
  });

  it('a user in the auditors’ group signs in through the provider: /connectors, named with the role auditor, the audit trail and no "Add connector"; the trail shows the sign-in, method oidc', async () => {
    await inBrowser(async (page) => {
      assert.equal(await signInAs(page, AUDITOR), '/connectors');
      await shown(heading(page, 'Data connectors'));
      const name = AUDITOR.preferred_username!;
      await textMatches(page.getByRole('banner'), new RegExp(`${name.replace(/[.]/g, '\\.')}\\s*auditor`));
      const session = await sessionIn(page);
      assert.equal(session.status, 200, JSON.stringify(session));
      assert.equal(session.body.name, name);
      assert.equal(session.body.role, 'auditor');

      await rowsWhen(page, 'Connectors', (rows) => rows.length === 1 && /No connectors yet/.test(Object.values(rows[0]!).join(' ')));
      assert.equal(await addConnector(page).count(), 0, 'an auditor is offered no "Add connector"');
      await shown(mainNav(page).getByRole('link', { name: 'Audit trail', exact: true }));

      await mainNav(page).getByRole('link', { name: 'Audit trail', exact: true }).click();
      await page.waitForURL(/\/audit$/);
      await shown(heading(page, 'Audit trail'));
      const rows = await rowsWhen(page, 'Audit trail', (rs) => rs.some((r) => r.Action === 'sign-in' && r.Target === name));
      const signIn = rows.find((r) => r.Action === 'sign-in' && r.Target === name)!;
      assert.match(signIn.Details ?? '', /(^|, )method: oidc(,|$)/, JSON.stringify(signIn));
      assert.match(signIn.Details ?? '', /(^|, )role: auditor(,|$)/, JSON.stringify(signIn));
      assert.equal(signIn.Actor, name);
      const added = rows.find((r) => r.Action === 'user-added' && r.Target === name);
      assert.ok(added, `the account made at its first sign-in is in the trail: ${JSON.stringify(rows)}`);
      assert.equal(added.Actor, 'sso');
      assert.match(added.Details ?? '', new RegExp(`group: ${AUDITORS}`), 'made for the auditors’ group');
    });
  });

  it('a user in the admins’ group gets the role connector-admin: "Add connector", and no audit trail', async () => {
    await inBrowser(async (page) => {
      assert.equal(await signInAs(page, ADMIN), '/connectors');
      await shown(heading(page, 'Data connectors'));
      await textMatches(page.getByRole('banner'), new RegExp(`${ADMIN.preferred_username!.replace(/[.]/g, '\\.')}\\s*connector-admin`));
      await shown(addConnector(page).first());
      assert.equal(await mainNav(page).getByRole('link', { name: 'Audit trail', exact: true }).count(), 0, 'a connector-admin has no audit trail');
      assert.equal((await sessionIn(page)).body.role, 'connector-admin');
    });
  });

  it('a user in no mapped group is back on /login with SSO_NO_ROLE and the catalogue’s sentence, and is not signed in', async () => {
    await inBrowser(async (page) => {
      assert.equal(await signInAs(page, OUTSIDER), '/login?error=SSO_NO_ROLE');
      await shown(heading(page, 'Sign in'));
      const alert = page.getByRole('alert');
      const text = await textMatches(alert, /SSO_NO_ROLE/);
      assert.equal(text.replace(/\s+/g, ' '), `SSO_NO_ROLE ${SSO_CODES.SSO_NO_ROLE}`);
      const session = await sessionIn(page);
      assert.equal(session.status, 401, `no session: ${JSON.stringify(session)}`);
      // The link is still offered, to try again (e.g. once added to a group).
      await shown(ssoLink(page));
      const violations = await seriousViolations(page);
      assert.deepEqual(violations, [], `/login with the refusal: ${describeViolations(violations)}`);
    });
  });

  it('the client secret is in no line of the server’s log', () => {
    assert.ok(!server!.logs().includes(double!.clientSecret));
  });
});
