// The console as a compliance admin uses it, end to end: the shipped `xip
// serve` (bin/xip.js, dist/ and dist/console) on a new installation, driven
// in Debian's Chromium. The first account is made with the setup token; a
// connector is added through the wizard against a folder source (a drop of
// signed containers, one signed by a stranger, with items that fail), its
// trust anchor uploaded as PEM, a directory CSV, a Maildir destination tried
// with "Test delivery"; it is run, its counts change on the detail and list
// pages as they poll, a failure opens its run page, the log downloads with
// the run's rows; it is paused and removed; the admin signs out. axe-core
// checks each page on the way (no serious or critical violation).
//
// Screenshots for the README (connectors.png, wizard.png,
// connector-detail.png, at 1280×800, animations off) are written into
// docs/screenshots/ on every run, so the README always shows the console as
// it is (they show the times of the run: commit them when the console
// changed, or `git checkout docs/screenshots` when it did not).
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { describeViolations, seriousViolations, startChromium, type RunningChromium } from '../support/chromium.js';
import { ROOT } from '../support/cli.js';
import { ANA, field, heading, journey, makeDrop, newContext, PASSWORD, removeDir, rowsWhen, serve, shown, textMatches, type Drop, type Row, type Serving } from './console-fixture.js';
import { parseCsv } from './csv.js';

const NAME = 'chat';
const ADMIN = 'admin';
/** makeDrop puts the drop and the mailboxes inside XIP_HOME. */
const SOURCE = '$XIP_HOME/drop';
const DESTINATION = 'maildir:$XIP_HOME/mail';

let d: Drop;
let server: Serving;
let chromium: RunningChromium;
let context: BrowserContext;
let page: Page;
let shots: string;

before(async () => {
  d = await makeDrop('xip-e2e-console-');
  shots = join(ROOT, 'docs', 'screenshots');
  await mkdir(shots, { recursive: true });
  server = await serve(d.home);
  chromium = await startChromium();
  context = await newContext(chromium.browser, server.address);
  page = await context.newPage();
});

after(async () => {
  await context?.close().catch(() => undefined);
  await chromium?.stop();
  await server?.stop();
  await removeDir(d?.dir);
});

/** No serious or critical axe-core violation on the page as it is now. */
async function accessible(what: string, on: Page = page): Promise<void> {
  const violations = await seriousViolations(on);
  assert.deepEqual(violations, [], `${what}: ${describeViolations(violations)}`);
}

/** What every signed-in page has: the product's header, the Main nav, Sign out, who is signed in, one h1 in <main>. */
async function frame(on: Page, who: string, role: string): Promise<void> {
  const header = await shown(on.getByRole('banner'));
  await textMatches(header, /xip-connector/);
  await textMatches(header, new RegExp(`${who}[\\s\\S]*${role}|${role}[\\s\\S]*${who}`));
  await shown(on.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Data connectors', exact: true }));
  await shown(on.getByRole('button', { name: 'Sign out', exact: true }));
  assert.equal(await on.getByRole('main').locator('h1').count(), 1, 'one h1 in <main>');
}

/** The wizard is at step `name`: its h2, and aria-current="step" on its entry of the Steps list. */
async function atStep(name: string): Promise<void> {
  await shown(heading(page, name, 2));
  const current = page.getByRole('list', { name: 'Steps', exact: true }).locator('[aria-current="step"]');
  await textMatches(current, new RegExp(name));
}

const next = () => page.getByRole('button', { name: 'Next', exact: true }).click();
const back = () => page.getByRole('button', { name: 'Back', exact: true }).click();
const alert = () => page.getByRole('alert');

async function screenshot(file: string, on: Page = page, fullPage = false): Promise<void> {
  const path = join(shots, file);
  // Without the focus ring of the heading the console focuses on navigation: the same picture every time.
  await on.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?(): void } | null } }).document.activeElement?.blur?.());
  await on.screenshot({ path, animations: 'disabled', caret: 'hide', fullPage });
  const png = await readFile(path);
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  assert.equal(png.readUInt32BE(16), 1280, `${file} is 1280 pixels wide`);
}

/** The text of the connector's status on its detail page (one of the four words). */
function statusOn(on: Page) {
  return on.getByRole('main').getByText(/^(healthy|running|failing|paused)$/).first();
}

function connectorRow(rows: Row[]): Row | undefined {
  return rows.find((r) => r.Name === NAME);
}

let runId: number;
const step = journey(() => page);

describe('console: a connector from the first account to its removal', () => {
  it('a new installation sends to /login, which links to /setup; the first account is made with the setup token and lands on an empty list', step(async () => {
    await page.goto('/');
    await page.waitForURL(/\/login(\?.*)?$/);
    await shown(heading(page, 'Sign in'));
    // A refused sign-in shows the API's code in an alert.
    await field(page, 'Name').fill(ADMIN);
    await field(page, 'Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await textMatches(alert(), /AUTH_FAILED/);
    await accessible('/login');

    await page.getByRole('link', { name: 'First time? Create the first account' }).click();
    await page.waitForURL(/\/setup$/);
    await shown(heading(page, 'Create the first account'));
    await accessible('/setup');
    assert.ok(server.token, 'the server printed a setup token');
    await field(page, 'Setup token').fill(server.token);
    await field(page, 'Name').fill(ADMIN);
    await field(page, 'Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();

    await page.waitForURL(/\/connectors$/);
    await shown(heading(page, 'Data connectors'));
    await frame(page, ADMIN, 'connector-admin');
    await shown(page.getByText('No connectors yet'));
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit trail' }).count(), 0, 'the audit trail is for auditors');
    await accessible('/connectors (empty)');
  }));

  it('the wizard adds a connector: each step checks with the server before the next, Back keeps what was entered, Test delivery writes into the one mailbox', step(async () => {
    await page.getByRole('link', { name: 'Add connector', exact: true }).or(page.getByRole('button', { name: 'Add connector', exact: true })).click();
    await page.waitForURL(/\/connectors\/new$/);
    await shown(heading(page, 'Add connector'));
    const steps = await page.getByRole('list', { name: 'Steps', exact: true }).getByRole('listitem').allInnerTexts();
    assert.deepEqual(
      steps.map((s) => s.replace(/^\s*\d+[.)]?\s*/, '').trim()),
      ['Name', 'Source', 'Trust anchors', 'User mapping', 'Destination', 'Schedule', 'Review'],
    );

    // 1. Name: refused when empty or invalid.
    await atStep('Name');
    await next();
    await shown(alert());
    await atStep('Name');
    await field(page, 'Connector name').fill(NAME);
    await accessible('wizard: Name');
    await next();

    // 2. Source: the files found, the newest first; Back and Next keep both steps' entries.
    await atStep('Source');
    // As the server shows a path inside XIP_HOME (and the same on every run, for the screenshot).
    await field(page, 'Source').fill(SOURCE);
    await page.getByRole('button', { name: 'Validate connection', exact: true }).click();
    const files = await rowsWhen(page, 'Files found', (rows) => rows.length === 2);
    assert.deepEqual(files.map((r) => r.Name), [d.trusted.file, d.untrusted.file], JSON.stringify(files));
    await accessible('wizard: Source');
    await screenshot('wizard.png');
    await back();
    await atStep('Name');
    assert.equal(await field(page, 'Connector name').inputValue(), NAME, 'Back keeps the name');
    await next();
    await atStep('Source');
    assert.equal(await field(page, 'Source').inputValue(), SOURCE, 'and the source');
    await next();

    // 3. Trust anchors: the PEM uploaded; the newest file's signer verified against it.
    await atStep('Trust anchors');
    await field(page, 'Trust anchors (PEM)').setInputFiles(d.caPem);
    await page.getByRole('button', { name: 'Check signer', exact: true }).click();
    await textMatches(page.getByRole('main'), new RegExp(`Signer: [^\\n]*${d.signerSubject}`));
    await textMatches(page.getByRole('main'), /Verdict: verified/);
    await accessible('wizard: Trust anchors');
    await next();

    // 4. User mapping: the directory, and a custom mapping checked line by line.
    await atStep('User mapping');
    await shown(page.getByText("Automatic: by each participant's Email property"));
    const template = await page.getByRole('link', { name: 'Download mapping template' }).getAttribute('href');
    assert.match(template ?? '', /\/api\/wizard\/mapping-template\.csv$/);
    await field(page, 'Directory (CSV)').setInputFiles(d.usersCsv);
    await field(page, 'Custom mapping (CSV, optional)').setInputFiles(d.mappingCsv);
    await page.getByRole('button', { name: 'Check mapping', exact: true }).click();
    await rowsWhen(page, 'Mapping check', (rows) => rows.length > 0);
    await accessible('wizard: User mapping');
    await next();

    // 5. Destination: a test message lands in the one mailbox's folder.
    await atStep('Destination');
    await field(page, 'Destination').fill(DESTINATION);
    assert.equal(await field(page, 'Folder').inputValue(), 'Inbox/XIP', 'the default folder');
    await field(page, 'Test mailbox').fill(ANA);
    await page.getByRole('button', { name: 'Test delivery', exact: true }).click();
    await textMatches(page.getByRole('main'), new RegExp(`Delivered to ${ANA.replace('.', '\\.')} in Inbox/XIP`));
    const folder = join(d.mail, ANA, '.INBOX.XIP');
    const delivered = [...(await readdir(join(folder, 'new')).catch(() => [])), ...(await readdir(join(folder, 'cur')).catch(() => []))];
    assert.equal(delivered.length, 1, 'one test message in Ana’s Inbox/XIP');
    assert.deepEqual(await readdir(d.mail), [ANA], 'and in no other mailbox');
    await accessible('wizard: Destination');
    await next();

    // 6. Schedule: the next runs from the server; a wrong cron expression is refused.
    await atStep('Schedule');
    const cron = field(page, 'Schedule (cron)');
    assert.equal(await cron.inputValue(), '0 2 * * *');
    assert.equal(await field(page, 'Time zone').inputValue(), 'UTC');
    await textMatches(page.getByRole('main'), /Next runs[\s\S]*02:00[\s\S]*02:00[\s\S]*02:00/);
    await cron.fill('61 * * * *');
    await next();
    await textMatches(alert(), /CONFIG_INVALID/);
    await atStep('Schedule');
    await cron.fill('0 2 * * *');
    await accessible('wizard: Schedule');
    await next();

    // 7. Review: everything entered.
    await atStep('Review');
    const review = await textMatches(page.getByRole('main').locator('dl'), new RegExp(NAME));
    for (const shown of [SOURCE, DESTINATION, 'trusted-ca.pem', 'users.csv', 'mapping.csv', 'Inbox/XIP', '0 2 * * *', 'UTC']) assert.ok(review.includes(shown), `the review shows ${shown}: ${review}`);
    await accessible('wizard: Review');
    await page.getByRole('button', { name: 'Finish', exact: true }).click();

    await page.waitForURL(new RegExp(`/connectors/${NAME}$`));
    await shown(heading(page, NAME));
    await textMatches(statusOn(page), /^healthy$/);
  }));

  it('Run now: the counts change on the detail page and on the list as they poll; the latest failures give their code and reason', step(async () => {
    const list = await context.newPage();
    await list.goto('/connectors');
    const before = await rowsWhen(list, 'Connectors', (rows) => connectorRow(rows) !== undefined);
    assert.equal(connectorRow(before)!['Imported (total)'], '0');
    assert.equal(connectorRow(before)!.Status, 'healthy');
    const link = await list.getByRole('table', { name: 'Connectors' }).getByRole('link', { name: NAME, exact: true }).getAttribute('href');
    assert.equal(link, `/connectors/${NAME}`);

    await accessible('connector detail (never run)');
    await page.getByRole('button', { name: 'Run now', exact: true }).click();
    const runs = await rowsWhen(page, 'Runs', (rows) => rows.length === 1 && rows[0]!.Imported === String(d.importedCopies) && !/running/.test(rows[0]!.Status ?? ''));
    runId = Number(runs[0]!.Run);
    assert.ok(Number.isInteger(runId) && runId > 0, JSON.stringify(runs));
    assert.equal(runs[0]!.Failed, '2');
    assert.match(runs[0]!.Trigger ?? '', /manual/);
    await textMatches(statusOn(page), /^failing$/); // the run completed with errors

    const today = new Date().toISOString().slice(0, 10);
    const days = await rowsWhen(page, 'Items per day', (rows) => rows.some((r) => r['Day (UTC)'] === today && r.Imported === String(d.importedCopies) && r.Failed === '2'));
    assert.ok(days.length >= 2, 'a row per day of the range');
    const chart = page.getByRole('img').filter({ has: page.locator('svg') }).or(page.locator('svg[role="img"]')).first();
    await shown(chart);
    assert.match((await chart.getAttribute('aria-label')) ?? '', /\d/, 'the chart says what it shows');

    const failures = await rowsWhen(page, 'Latest failures', (rows) => rows.length === 2);
    const byItem = Object.fromEntries(failures.map((r) => [r.Item, r]));
    assert.equal(byItem.c?.Code, 'ITEM_UNMAPPED');
    assert.match(byItem.c?.Reason ?? '', /no participant maps to a mailbox/);
    assert.equal(byItem['bad-1']?.Code, 'ITEM_INVALID');
    assert.match(byItem['bad-1']?.Reason ?? '', /sentAt: is required/);
    await accessible('connector detail (after a run)');
    await screenshot('connector-detail.png', page, true);

    // The list page was left open: it catches up by polling, without a reload.
    const after = await rowsWhen(list, 'Connectors', (rows) => connectorRow(rows)?.['Imported (total)'] === String(d.importedCopies));
    const row = connectorRow(after)!;
    assert.equal(row['Imported (last run)'], String(d.importedCopies));
    assert.equal(row['Failures (last run)'], '3', 'two items failed and one file was rejected');
    assert.equal(row.Status, 'failing');
    assert.notEqual(row['Last run'], '');
    assert.match(row.Source ?? '', /drop/);
    await accessible('/connectors (after a run)', list);
    await screenshot('connectors.png', list);
    await list.close();
  }));

  it('a failure opens its run page: its containers with sha256, signer and verdict, its failures, and the log downloads with the same rows', step(async () => {
    await page.getByRole('table', { name: 'Latest failures' }).getByRole('link', { name: 'c', exact: true }).click();
    await page.waitForURL(new RegExp(`/runs/${runId}$`));
    await shown(heading(page, `Run ${runId} of ${NAME}`));

    const containers = await rowsWhen(page, 'Containers', (rows) => rows.length === 2);
    const trusted = containers.find((r) => r.File === d.trusted.file);
    const untrusted = containers.find((r) => r.File === d.untrusted.file);
    assert.ok(trusted && untrusted, JSON.stringify(containers));
    assert.equal(trusted['SHA-256'], d.trusted.sha256);
    assert.match(trusted.Signer ?? '', new RegExp(d.signerSubject));
    assert.match(trusted.Verdict ?? '', /^verified$/);
    assert.equal(untrusted['SHA-256'], d.untrusted.sha256);
    assert.match(untrusted.Verdict ?? '', /rejected[\s\S]*CERT_UNTRUSTED/);
    assert.match(trusted.Evidence ?? '', /auditors only/, 'a connector-admin does not open the evidence store');

    // The item cell names the item, then where it was read (file › entry:line).
    const failures = (await rowsWhen(page, 'Failures', (rows) => rows.length === 2)).map((r) => [r.Item!.split(' ')[0]!, r.Code!, r.Reason!]);
    assert.deepEqual(failures.map(([item, code]) => [item, code]).sort(), Object.entries(d.failures).sort());
    await accessible('run page');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download log', exact: true }).click()]);
    assert.match(download.suggestedFilename(), /\.csv$/);
    const saved = join(d.dir, 'downloaded-log.csv');
    await download.saveAs(saved); // connected to the browser server: saveAs, not path()
    const rows = parseCsv(await readFile(saved, 'utf8'));
    const [header, ...lines] = rows;
    assert.deepEqual(header, ['runId', 'completedAt', 'record', 'name', 'value', 'itemId', 'sourceUserId', 'mailbox', 'file', 'sha256', 'code', 'reason']);
    const col = (line: string[], name: string) => line[header!.indexOf(name)];
    assert.ok(lines.every((l) => col(l, 'runId') === String(runId)), 'every row is of this run');
    assert.equal(col(lines.find((l) => col(l, 'record') === 'count' && col(l, 'name') === 'Imported')!, 'value'), String(d.importedCopies));
    const csvContainers = lines.filter((l) => col(l, 'record') === 'container').map((l) => [col(l, 'file'), col(l, 'sha256'), col(l, 'name'), col(l, 'code')]);
    assert.deepEqual(csvContainers.sort(), [
      [d.untrusted.file, d.untrusted.sha256, 'rejected', 'CERT_UNTRUSTED'],
      [d.trusted.file, d.trusted.sha256, 'verified', ''],
    ].sort());
    const csvFailures = lines.filter((l) => col(l, 'record') === 'failure').map((l) => [col(l, 'itemId'), col(l, 'code')]);
    assert.deepEqual(csvFailures.sort(), failures.map(([item, code]) => [item, code]).sort(), 'the log’s failures are the page’s');
    const reasons = lines.filter((l) => col(l, 'record') === 'failure').map((l) => col(l, 'reason'));
    assert.deepEqual(reasons.sort(), failures.map(([, , reason]) => reason).sort(), 'with the same reasons');
  }));

  it('pause shows "paused" on the detail and the list; remove asks for the name typed again; sign out ends the session', step(async () => {
    await page.goto(`/connectors/${NAME}`);
    await shown(heading(page, NAME));
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await textMatches(statusOn(page), /^paused$/);
    await shown(page.getByRole('button', { name: 'Resume', exact: true }));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Data connectors' }).click();
    await rowsWhen(page, 'Connectors', (rows) => connectorRow(rows)?.Status === 'paused');

    await page.getByRole('table', { name: 'Connectors' }).getByRole('link', { name: NAME, exact: true }).click();
    await shown(heading(page, NAME));
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    const dialog = await shown(page.getByRole('dialog'));
    await shown(dialog.getByRole('heading', { name: 'Remove connector' }));
    const confirm = dialog.getByRole('button', { name: 'Remove connector', exact: true });
    const typed = dialog.locator('input').and(dialog.getByLabel("Type the connector's name to confirm", { exact: true }));
    assert.equal(await confirm.isDisabled(), true);
    await typed.fill(NAME.slice(0, -1));
    assert.equal(await confirm.isDisabled(), true, 'disabled until the name matches');
    await typed.fill(NAME);
    assert.equal(await confirm.isEnabled(), true);
    await accessible('remove dialog');
    await confirm.click();
    await page.waitForURL(/\/connectors$/);
    await shown(page.getByText('No connectors yet'));
    const gone = await page.request.get(`/api/connectors/${NAME}`);
    assert.equal(gone.status(), 404, 'removed on the server');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/login(\?.*)?$/);
    assert.equal((await page.request.get('/api/session')).status(), 401, 'the session is over');
    await page.goto('/connectors');
    await page.waitForURL(/\/login(\?.*)?$/);
    await shown(heading(page, 'Sign in'));
    assert.equal(await page.getByRole('table').count(), 0, 'nothing shown without a session');
  }));
});
