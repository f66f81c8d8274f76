// The harness of the console's end-to-end tests (test/support/chromium.ts):
// Debian's Chromium starts and stops by PID and resolves no name, and the axe-core check runs in a
// page whose CSP forbids inline scripts — and finds what it must find, so
// that a clean page of the console means something.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { describeViolations, seriousViolations, startChromium, type RunningChromium } from '../support/chromium.js';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'";

const pages: Record<string, string> = {
  '/clean': '<!doctype html><html lang="en"><head><title>Clean</title></head><body><main><h1>Clean</h1><button type="button">Save</button></main></body></html>',
  '/broken':
    '<!doctype html><html lang="en"><head><title>Broken</title></head><body><main><h1>Broken</h1><button type="button"></button><input type="text"></main>' +
    '<script>document.title = "inline ran"</script></body></html>',
};

let server: Server;
let origin: string;
let chromium: RunningChromium;

before(async () => {
  server = createServer((req, res) => {
    const body = pages[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP });
    res.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  chromium = await startChromium();
});

after(async () => {
  await chromium?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

describe('Chromium harness', () => {
  it('runs axe-core in a page whose CSP blocks inline scripts, and returns its serious and critical violations', async () => {
    const page = await chromium.browser.newPage();
    try {
      await page.goto(`${origin}/broken`);
      assert.equal(await page.title(), 'Broken', 'the CSP is in force: the inline script did not run');
      const found = await seriousViolations(page);
      const ids = found.map((v) => v.id).sort();
      assert.deepEqual(ids, ['button-name', 'label'], describeViolations(found));
      assert.equal(await page.title(), 'Broken', 'still in force after axe ran');

      await page.goto(`${origin}/clean`);
      assert.deepEqual(await seriousViolations(page), []);
    } finally {
      await page.close();
    }
  });

  it('resolves no host name: only the loopback addresses the tests give are reachable', async () => {
    const page = await chromium.browser.newPage();
    try {
      const port = new URL(origin).port;
      assert.equal((await page.goto(`http://127.0.0.1:${port}/clean`))?.status(), 200);
      await assert.rejects(page.goto(`http://localhost:${port}/clean`), /ERR_NAME_NOT_RESOLVED/, 'localhost is a name too');
    } finally {
      await page.close();
    }
  });

  it('stops the browser process by its PID', async () => {
    const other = await startChromium();
    process.kill(other.pid, 0); // alive
    await other.stop();
    assert.throws(() => process.kill(other.pid, 0), { code: 'ESRCH' });
  });
});
