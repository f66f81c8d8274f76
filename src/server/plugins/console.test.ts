// The built console served beside the API (plugins/console.ts), from a
// throwaway build folder: assets with long-lived caching, index.html for the
// console's pages (with the strict CSP), nothing outside the folder
// whatever the URL, the API's own answers unchanged, and 503 when the
// console was never built.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../test-support/harness.js';
import { IMMUTABLE, NOT_BUILT, packageRoot } from './console.js';
import { NOT_FOUND_PER_MINUTE } from './errors.js';

const INDEX = '<!doctype html><html lang="en"><head><script type="module" src="/assets/app-3f2a1b.js"></script></head><body><div id="root"></div></body></html>\n';
const SCRIPT = 'console.log("the console");\n';
const SECRET = 'a file beside the build that must never be served';
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

let h: Harness;
let unbuilt: Harness;

const get = (app: Harness['app'], url: string, headers: Record<string, string> = HTML) => app.inject({ method: 'GET', url, headers });

describe('the built console', () => {
  before(async () => {
    const dir = join(process.env.TMPDIR ?? '/tmp', `xip-console-${process.pid}-${Date.now()}`);
    const build = join(dir, 'console');
    await mkdir(join(build, 'assets'), { recursive: true });
    await writeFile(join(build, 'index.html'), INDEX);
    await writeFile(join(build, 'assets', 'app-3f2a1b.js'), SCRIPT);
    await writeFile(join(build, 'assets', 'style-9c8d.css'), 'body{margin:0}\n');
    await writeFile(join(build, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(dir, 'secret.txt'), SECRET);
    await symlink(join(dir, 'secret.txt'), join(build, 'assets', 'linked.js'));
    h = await startHarness({ consoleDir: build });
    await mkdir(join(dir, 'empty'));
    unbuilt = await startHarness({ consoleDir: join(dir, 'empty') });
  });
  after(async () => {
    await h.close();
    await unbuilt.close();
  });

  it('serves assets with their content type and a long, immutable cache life', async () => {
    const js = await get(h.app, '/assets/app-3f2a1b.js', {});
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], IMMUTABLE);
    assert.equal(js.body, SCRIPT);
    const css = await get(h.app, '/assets/style-9c8d.css', {});
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const icon = await get(h.app, '/favicon.svg', {});
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'no-cache');
  });

  it('an unknown asset is 404 NOT_FOUND, not the page', async () => {
    for (const url of ['/assets/nope.js', '/assets/', '/nope.svg']) {
      const r = await get(h.app, url);
      assert.equal(r.statusCode, 404, url);
      assert.equal((r.json() as { code: string }).code, 'NOT_FOUND');
    }
  });

  it('answers every page of the console with index.html, no-store, under the strict CSP', async () => {
    for (const url of ['/', '/connectors', '/connectors/chat/edit', '/runs/12?tab=failures', '/evidence/' + 'a'.repeat(64), '/login']) {
      const r = await get(h.app, url);
      assert.equal(r.statusCode, 200, url);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.equal(r.body, INDEX);
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
    }
    assert.equal((await get(h.app, '/connectors', { accept: 'application/json' })).statusCode, 404, 'not a browser page load');
    assert.equal((await h.app.inject({ method: 'POST', url: '/connectors', headers: HTML })).statusCode, 404);
  });

  it('page loads are not counted as probes by the 404 limit', async () => {
    for (let i = 0; i <= NOT_FOUND_PER_MINUTE; i++) assert.equal((await get(h.app, `/connectors/c${i}`)).statusCode, 200, `load ${i}`);
  });

  it('never serves a file outside the build, whatever the URL', async () => {
    for (const url of [
      '/assets/../../secret.txt',
      '/assets/..%2F..%2Fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%5C..%5Csecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/linked.js',
      '/assets/app-3f2a1b.js%00.png',
      '/..%2Fsecret.txt',
      '/%2e%2e/secret.txt',
    ]) {
      const r = await get(h.app, url, {});
      assert.ok(!r.body.includes(SECRET), `${url} → ${r.statusCode}`);
      assert.ok([400, 404].includes(r.statusCode), `${url} → ${r.statusCode}`);
    }
  });

  it('leaves the API and the server’s own pages alone', async () => {
    const api = await get(h.app, '/api/not-a-route');
    assert.equal(api.statusCode, 401, 'unknown API URLs still need a session');
    assert.equal((await get(h.app, '/api/connectors')).statusCode, 401);
    assert.equal((await get(h.app, '/healthz', {})).statusCode, 200);
    assert.equal((await get(h.app, '/docs')).statusCode, 200);
    assert.doesNotMatch((await get(h.app, '/docs')).body, /id="root"/);
    assert.equal((await get(h.app, '/auth/oidc/nothing')).statusCode, 404);
    assert.equal((await get(h.app, '/openapi.json', {})).headers['content-type'], 'application/json; charset=utf-8');
  });

  it('without a build: 503 text/plain saying how to build it; the API still answers', async () => {
    const r = await get(unbuilt.app, '/connectors');
    assert.equal(r.statusCode, 503);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.body, NOT_BUILT);
    assert.equal((await get(unbuilt.app, '/assets/app-3f2a1b.js', {})).statusCode, 404);
    assert.equal((await get(unbuilt.app, '/healthz', {})).statusCode, 200);
  });

  it('xip serve finds the build under the package root, the folder of package.json above the module', () => {
    assert.equal(packageRoot(import.meta.url), join(import.meta.dirname, '..', '..', '..'));
  });
});
