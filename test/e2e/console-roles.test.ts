// The console for the other roles and other ways of using it, on a connector
// added and run through the API beforehand (console.test.ts drives the
// wizard): a viewer reads but is offered no change and is refused one; an
// auditor reads the audit trail and the evidence behind a run; an admin signs
// in and reaches the wizard's second step with the keyboard alone, the focus
// visible at every stop; and at 1024×768 the list and detail pages do not
// scroll sideways. axe-core checks the pages these reach.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { describeViolations, seriousViolations, startChromium, type RunningChromium } from '../support/chromium.js';
import { addUser, apiAs, connectorConfig, field, heading, makeDrop, newContext, PASSWORD, removeDir, rowsWhen, serve, shown, signIn, textMatches, waitFor, type Drop, type Serving } from './console-fixture.js';

const NAME = 'chat';
const ADMIN = 'admin';
const VIEWER = 'vera';
const AUDITOR = 'audra';

let d: Drop;
let server: Serving;
let chromium: RunningChromium;
let runId: number;

before(async () => {
  d = await makeDrop('xip-e2e-roles-');
  server = await serve(d.home);
  const setup = await fetch(`${server.address}/api/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: server.token, name: ADMIN, password: PASSWORD }) });
  assert.ok(setup.ok, `setup: ${setup.status} ${await setup.text()}`);
  await addUser(d.home, VIEWER, 'viewer');
  await addUser(d.home, AUDITOR, 'auditor');
  const api = await apiAs(server.address, ADMIN);
  const added = await api('POST', '/api/connectors', await connectorConfig(d, NAME));
  assert.equal(added.status, 201, await added.text());
  const started = await api('POST', `/api/connectors/${NAME}/run`);
  assert.equal(started.status, 202, await started.text());
  runId = await waitFor('the run to finish', async () => {
    const { runs } = (await (await api('GET', `/api/connectors/${NAME}/runs`)).json()) as { runs: { id: number; finishedAt: string | null }[] };
    return runs[0]?.finishedAt ? runs[0].id : undefined;
  });
  chromium = await startChromium();
});

after(async () => {
  await chromium?.stop();
  await server?.stop();
  await removeDir(d?.dir);
});

async function accessible(page: Page, what: string): Promise<void> {
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${what}: ${describeViolations(violations)}`);
}

async function asUser(name: string, body: (page: Page) => Promise<void>, viewport?: { width: number; height: number }): Promise<void> {
  const context = await newContext(chromium.browser, server.address, viewport);
  try {
    const page = await context.newPage();
    await signIn(page, name);
    await body(page);
  } finally {
    await context.close();
  }
}

/** The runs of the connector, through the API as the admin. */
async function runCount(): Promise<number> {
  const api = await apiAs(server.address, ADMIN);
  return ((await (await api('GET', `/api/connectors/${NAME}/runs`)).json()) as { runs: unknown[] }).runs.length;
}

interface Focused {
  readonly tag: string;
  readonly name: string;
  readonly focusVisible: boolean;
  readonly indicator: boolean;
}

/** What has the focus: its tag, its name (label or text), and whether a focus indicator is drawn. */
function focused(page: Page): Promise<Focused | null> {
  return page.evaluate(() => {
    // In the page (this project's tsconfig has no DOM types, hence the shapes given here).
    interface El {
      tagName: string;
      textContent: string | null;
      getAttribute(n: string): string | null;
      labels?: ArrayLike<{ textContent: string | null }> | null;
      matches(s: string): boolean;
    }
    const g = globalThis as unknown as { document: { activeElement: El | null; body: El }; getComputedStyle(e: El): { outlineStyle: string; outlineWidth: string; boxShadow: string } };
    const el = g.document.activeElement;
    if (!el || el === g.document.body) return null;
    const style = g.getComputedStyle(el);
    const name = (el.getAttribute('aria-label') ?? el.labels?.[0]?.textContent ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
    return {
      tag: el.tagName.toLowerCase(),
      name,
      focusVisible: el.matches(':focus-visible'),
      indicator: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || (style.boxShadow !== 'none' && style.boxShadow !== ''),
    };
  });
}

/** Presses Tab until the focus is on `name` (at most 40 times); every element on the way shows that it has the focus. */
async function tabTo(page: Page, name: string | RegExp): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (!f) continue;
    seen.push(`${f.tag}:${f.name}`);
    assert.ok(f.focusVisible && f.indicator, `the focus on ${f.tag} "${f.name}" is visible (focus-visible: ${f.focusVisible}, outline or shadow: ${f.indicator})`);
    if (typeof name === 'string' ? f.name === name : name.test(f.name)) return;
  }
  throw new Error(`Tab never reached "${String(name)}"; it went through ${seen.join(' → ')}`);
}

describe('console: roles, the keyboard, narrower screens', () => {
  it('a viewer sees the connectors and their runs but no way to change them, and the API refuses a change from the viewer’s session', async () => {
    await asUser(VIEWER, async (page) => {
      await textMatches(page.getByRole('banner'), new RegExp(`${VIEWER}[\\s\\S]*viewer|viewer[\\s\\S]*${VIEWER}`));
      await rowsWhen(page, 'Connectors', (rows) => rows.some((r) => r.Name === NAME));
      assert.equal(await page.getByRole('link', { name: 'Add connector' }).or(page.getByRole('button', { name: 'Add connector' })).count(), 0, 'no Add connector');
      await accessible(page, '/connectors as a viewer');

      await page.getByRole('link', { name: NAME, exact: true }).click();
      await shown(heading(page, NAME));
      await rowsWhen(page, 'Runs', (rows) => rows.length === 1);
      for (const action of ['Run now', 'Pause', 'Remove', 'Edit']) {
        const control = page.getByRole('main').getByRole('button', { name: action, exact: true }).or(page.getByRole('main').getByRole('link', { name: action, exact: true }));
        const offered = (await control.count()) > 0 && (await control.first().isEnabled());
        assert.equal(offered, false, `a viewer is not offered "${action}"`);
      }

      // The console offers nothing; the server refuses anyway (the viewer's own session and CSRF token).
      const refused = await page.evaluate(async (name) => {
        const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
        const r = await fetch(`/api/connectors/${name}/run`, { method: 'POST', headers: { 'x-csrf-token': session.csrfToken } });
        return { status: r.status, body: (await r.json()) as { code: string } };
      }, NAME);
      assert.deepEqual(refused, { status: 403, body: refused.body });
      assert.equal(refused.body.code, 'FORBIDDEN');
      assert.equal(await runCount(), 1, 'nothing ran');

      // The wizard's address typed in: refused, and no field of it shown.
      await page.goto('/connectors/new');
      await textMatches(page.getByRole('main'), /FORBIDDEN|not allowed|not open to your role/i);
      assert.equal(await field(page, 'Connector name').count(), 0);
    });
  });

  it('an auditor reads the audit trail, filters it, exports it, and opens the evidence behind a run', async () => {
    await asUser(AUDITOR, async (page) => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit trail', exact: true }).click();
      await page.waitForURL(/\/audit$/);
      await shown(heading(page, 'Audit trail'));
      const entries = await rowsWhen(page, 'Audit trail', (rows) => rows.some((r) => /connector-created/.test(r.Action ?? '')));
      assert.ok(entries.some((r) => r.Actor === ADMIN && /connector-run/.test(r.Action ?? '') && r.Target === NAME), JSON.stringify(entries));
      await accessible(page, '/audit');

      await page.getByLabel('Actor', { exact: true }).fill(ADMIN);
      await page.getByLabel('Actor', { exact: true }).press('Enter');
      await rowsWhen(page, 'Audit trail', (rows) => rows.length > 0 && rows.every((r) => r.Actor === ADMIN));
      const exportHref = await page.getByRole('link', { name: 'Export CSV', exact: true }).getAttribute('href');
      assert.match(exportHref ?? '', /^\/api\/audit\.csv\?(.*&)?actor=admin(&|$)/);

      await page.goto(`/runs/${runId}`);
      await shown(heading(page, `Run ${runId} of ${NAME}`));
      await rowsWhen(page, 'Containers', (rows) => rows.length === 2);
      await page.getByRole('table', { name: 'Containers' }).getByRole('row').filter({ hasText: d.trusted.file }).getByRole('link', { name: 'Evidence' }).click();
      await page.waitForURL(new RegExp(`/evidence/${d.trusted.sha256}$`));
      await shown(heading(page, 'Evidence'));
      const text = await textMatches(page.getByRole('main'), new RegExp(d.trusted.sha256));
      assert.match(text, /intact[\s\S]{0,40}(yes|true)/i, 'the stored file is intact');
      assert.equal(await page.getByRole('link', { name: 'Download file', exact: true }).getAttribute('href'), `/api/evidence/${d.trusted.sha256}/file`);
      await accessible(page, '/evidence');
    });
  });

  it('with the keyboard alone: sign in, then reach the wizard’s second step, the focus visible at every stop', async () => {
    const context = await newContext(chromium.browser, server.address);
    try {
      const page = await context.newPage();
      await page.goto('/login');
      await shown(heading(page, 'Sign in'));
      await tabTo(page, 'Name');
      await page.keyboard.type(ADMIN);
      await tabTo(page, 'Password');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/connectors$/);
      await shown(heading(page, 'Data connectors'));

      await tabTo(page, 'Add connector');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/connectors\/new$/);
      await shown(heading(page, 'Name', 2));
      await tabTo(page, 'Connector name');
      await page.keyboard.type('by-keyboard');
      await tabTo(page, 'Next');
      await page.keyboard.press('Enter');
      await shown(heading(page, 'Source', 2));
      await textMatches(page.getByRole('list', { name: 'Steps', exact: true }).locator('[aria-current="step"]'), /Source/);
    } finally {
      await context.close();
    }
  });

  it('at 1024×768 the list and detail pages do not scroll sideways', async () => {
    await asUser(
      ADMIN,
      async (page) => {
        const sideways = () => page.evaluate(() => {
          const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
          return root.scrollWidth - root.clientWidth;
        });
        await rowsWhen(page, 'Connectors', (rows) => rows.some((r) => r.Name === NAME));
        assert.equal(await sideways(), 0, 'the connectors list fits');
        await page.getByRole('link', { name: NAME, exact: true }).click();
        await shown(heading(page, NAME));
        await rowsWhen(page, 'Runs', (rows) => rows.length === 1);
        await rowsWhen(page, 'Latest failures', (rows) => rows.length === 2);
        assert.equal(await sideways(), 0, 'the connector detail fits');
      },
      { width: 1024, height: 768 },
    );
  });
});
