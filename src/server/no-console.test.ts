// The server of `xip serve --no-console` (options.console false): /healthz
// and /metrics answer as on any worker; the console's pages and files, the
// API (even signing in and the first account), /docs and /openapi.json are
// not there: 404 {"code":"NOT_FOUND"} from the root's handler, with no
// session looked up. The same build folder served with the console shows
// the difference.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../xip/test-support/container.js';
import { PASSWORD, startHarness, type Harness } from './test-support/harness.js';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

let dir: string;
let worker: Harness;
let withConsole: Harness;

/** What a person or a script would ask a server for: none of it on a worker without the console. */
const FOR_PEOPLE = [
  ['GET', '/', HTML],
  ['GET', '/connectors', HTML],
  ['GET', '/assets/app.js', {}],
  ['GET', '/favicon.svg', {}],
  ['GET', '/docs', HTML],
  ['GET', '/openapi.json', {}],
  ['GET', '/api/session', {}],
  ['POST', '/api/session', {}],
  ['POST', '/api/setup', {}],
  ['GET', '/api/connectors', {}],
  ['GET', '/api/workers', {}],
  ['GET', '/api/sso', {}],
  ['GET', '/auth/oidc/start', HTML],
] as const;

describe('a server without the console (xip serve --no-console)', () => {
  before(async () => {
    dir = await tempDir('xip-no-console-');
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>\n');
    await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1);\n');
    await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    worker = await startHarness({ consoleDir: dir, options: { console: false } });
    withConsole = await startHarness({ consoleDir: dir });
  });
  after(async () => {
    await worker.close();
    await withConsole.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /healthz and /metrics, for the load balancer and Prometheus', async () => {
    const health = await worker.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { ok: true });
    const metrics = await worker.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.headers['content-type'] as string, /^text\/plain/);
  });

  it('serves no page, no API, no sign-in and no OpenAPI document: 404 NOT_FOUND, where the console serves each', async () => {
    await worker.accounts.createAccount({ name: 'ana', role: 'viewer', passwordHash: await worker.passwords.hash(PASSWORD), at: worker.clock.now });
    for (const [method, url, headers] of FOR_PEOPLE) {
      const payload = method === 'POST' ? { name: 'ana', password: PASSWORD } : undefined;
      const r = await worker.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      assert.equal(r.statusCode, 404, `${method} ${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      assert.equal((r.json() as { code: string }).code, 'NOT_FOUND', `${method} ${url}`);
      const served = await withConsole.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      if (url !== '/auth/oidc/start') assert.notEqual(served.statusCode, 404, `with the console, ${method} ${url} is there`);
    }
    assert.equal(worker.passwords.verified.length, 0, 'no sign-in was attempted');
  });
});
