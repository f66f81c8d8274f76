// The HTTP API as a whole, walked from its own OpenAPI document: every route
// refuses a request without a session (401) unless public, refuses a role it
// does not allow (403) and lets the others through, refuses a change
// without its session's CSRF token (403) leaving the connectors, runs and
// audit trail as they were; and no password or secret ever appears in an
// answer or a log line. A real installation (SQLite under a throwaway
// XIP_HOME), requests through app.inject().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ROLES, type Role } from '../src/ports/account-store.js';
import { startHarness, PASSWORD, type Client, type Harness } from '../src/server/test-support/harness.js';

const SFTP_SECRET = 'Sftp-Pa55word-That-Must-Never-Show';
const WRONG_PASSWORD = 'Wrong-Pa55word-Typed-By-Someone';
const HOST_KEY = `SHA256:${'B'.repeat(43)}`;
const PUBLIC_ROUTES = ['GET /healthz', 'GET /metrics', 'GET /openapi.json', 'POST /api/session', 'POST /api/setup', 'GET /api/sso'];

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly access: { public: true } | { roles: Role[] };
}

let h: Harness;
let clients: Record<Role, Client>;
let operations: Operation[];
let runId: number;
/** A file of the evidence store (the container the run took). */
let evidenceSha: string;
/** Every answer the test saw, to search them for secrets. */
const answers: LightMyRequestResponse[] = [];

const changes = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);
const isPublic = (op: Operation) => 'public' in op.access;
const key = (op: Operation) => `${op.method} ${op.path}`;

async function seen(p: Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  const r = await p;
  answers.push(r);
  return r;
}

/** The URL of an operation, its parameters filled: an existing connector and run, or ones that do not exist (so that an allowed change changes nothing). */
function url(op: Operation, existing: boolean): string {
  return op.path
    .replace('{name}', existing ? 'chat' : 'no-such-connector')
    .replace('{id}', String(existing ? runId : 999_999))
    .replace('{sha256}', existing ? evidenceSha : '0'.repeat(64));
}

/** A body the route would accept. */
function body(op: Operation, name = 'chat'): unknown {
  if (op.method === 'PUT') return h.config(name);
  if (op.method === 'DELETE' && op.path.includes('{name}')) return { confirm: name };
  if (op.path === '/api/connectors' && op.method === 'POST') return h.config('fresh');
  return undefined;
}

async function state() {
  const connectors = await h.state.store.listConnectors();
  const runs = await Promise.all(connectors.map(async (c) => (await h.state.store.listRuns(c.name)).map((r) => r.id)));
  return { connectors, runs, audit: await h.accounts.listAudit({ limit: 1000 }), runNow: h.runNowCalls.length };
}

describe('the HTTP API, every route of its OpenAPI document', () => {
  before(async () => {
    h = await startHarness();
    const entries = await Promise.all(ROLES.map(async (role) => [role, await h.account(role, role)] as const));
    clients = Object.fromEntries(entries) as Record<Role, Client>;
    const admin = clients['connector-admin'];
    const sftp = { kind: 'sftp', host: 'sftp.partner.example', port: 22, username: 'export', path: '/out', hostKey: HOST_KEY, password: SFTP_SECRET };
    assert.equal((await seen(admin.inject('POST', '/api/connectors', h.config('partner', { source: sftp as never })))).statusCode, 201);
    assert.equal((await seen(admin.inject('POST', '/api/connectors', h.config('chat')))).statusCode, 201);
    await h.runWith('chat', ['a', 'b']);
    runId = (await h.state.store.listRuns('chat'))[0]!.id;
    evidenceSha = (await h.state.store.listEvidence())[0]!.sha256;
    const doc = (await seen(h.app.inject({ method: 'GET', url: '/openapi.json' }))).json() as { paths: Record<string, Record<string, { 'x-xip-access': Operation['access'] }>> };
    operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, access: op['x-xip-access'] })));
  });
  after(async () => h.close());

  it('documents every route with who may call it, as issue 11 says: reading for every role, changes for connector-admin, the audit trail and the evidence store for auditors', () => {
    assert.deepEqual(operations.map(key).sort(), [
      'DELETE /api/connectors/{name}',
      'DELETE /api/session',
      'GET /api/audit',
      'GET /api/audit.csv',
      'GET /api/connectors',
      'GET /api/connectors/{name}',
      'GET /api/connectors/{name}/daily',
      'GET /api/connectors/{name}/runs',
      'GET /api/evidence',
      'GET /api/evidence/{sha256}',
      'GET /api/evidence/{sha256}/file',
      'GET /api/runs/{id}',
      'GET /api/runs/{id}/log.csv',
      'GET /api/session',
      'GET /api/sso',
      'GET /api/wizard/mapping-template.csv',
      'GET /api/workers',
      'GET /healthz',
      'GET /metrics',
      'GET /openapi.json',
      'POST /api/connectors',
      'POST /api/connectors/{name}/pause',
      'POST /api/connectors/{name}/resume',
      'POST /api/connectors/{name}/run',
      'POST /api/session',
      'POST /api/setup',
      'POST /api/wizard/delivery',
      'POST /api/wizard/mapping',
      'POST /api/wizard/schedule',
      'POST /api/wizard/source',
      'POST /api/wizard/trust',
      'PUT /api/connectors/{name}',
    ]);
    for (const op of operations) {
      const expected = PUBLIC_ROUTES.includes(key(op))
        ? { public: true }
        : op.path.startsWith('/api/audit') || op.path.startsWith('/api/evidence')
          ? { roles: ['auditor'] }
          : op.path.startsWith('/api/wizard/')
            ? { roles: ['connector-admin'] }
          : op.path === '/api/session' || !changes(op.method)
            ? { roles: [...ROLES] }
            : { roles: ['connector-admin'] };
      assert.deepEqual(op.access, expected, key(op));
    }
  });

  it('without a session every route but the public ones is 401 AUTH_REQUIRED, in the catalogue’s {code, message}', async () => {
    for (const op of operations) {
      const b = body(op);
      const r = await seen(h.app.inject({ method: op.method as 'GET', url: url(op, true), ...(b !== undefined ? { payload: b as object } : {}) }));
      if (isPublic(op)) {
        assert.notEqual(r.statusCode, 401, key(op));
        if (op.method === 'GET') assert.equal(r.statusCode, 200, key(op));
      } else {
        assert.equal(r.statusCode, 401, key(op));
        assert.deepEqual(Object.keys(r.json() as object), ['code', 'message'], key(op));
        assert.equal((r.json() as { code: string }).code, 'AUTH_REQUIRED', key(op));
      }
    }
    assert.equal((await seen(h.app.inject({ method: 'GET', url: '/docs' }))).statusCode, 200, '/docs is public');
    assert.equal((await seen(h.app.inject({ method: 'GET', url: '/api/not-a-route' }))).statusCode, 401, 'nor can the API be mapped without one');
  });

  it('with each role: 403 FORBIDDEN where the role is not allowed, through the guard where it is', async () => {
    for (const op of operations.filter((o) => !isPublic(o))) {
      const roles = (op.access as { roles: Role[] }).roles;
      for (const role of ROLES) {
        // A change is tried on a connector or run that does not exist: past the guard, it answers 404 or 400 and changes nothing.
        const client = op.method === 'DELETE' && op.path === '/api/session' ? await h.signIn(role) : clients[role];
        const r = await seen(client.inject(op.method, url(op, !changes(op.method)), body(op, 'no-such-connector')));
        if (roles.includes(role)) {
          assert.ok(![401, 403].includes(r.statusCode), `${role} may ${key(op)}: ${r.statusCode} ${r.body}`);
          if (!changes(op.method)) assert.equal(r.statusCode, 200, `${role} ${key(op)}`);
        } else {
          assert.equal(r.statusCode, 403, `${role} may not ${key(op)}`);
          assert.equal((r.json() as { code: string }).code, 'FORBIDDEN');
        }
      }
    }
  });

  it('every change with a missing or a forged CSRF token is 403 CSRF_INVALID, and nothing changed', async () => {
    const admin = clients['connector-admin'];
    const other = await h.signIn('connector-admin');
    const before = await state();
    for (const op of operations.filter((o) => changes(o.method) && !isPublic(o))) {
      for (const [what, token] of [
        ['missing', undefined],
        ['forged', 'aaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'],
        ["another session's", other.csrf],
      ] as const) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        const b = body(op);
        const r = await seen(
          h.app.inject({ method: op.method as 'POST', url: url(op, true), headers: { cookie: `xip_session=${admin.cookie}`, ...(token !== undefined ? { 'x-csrf-token': token } : {}), ...(b !== undefined ? headers : {}) }, ...(b !== undefined ? { payload: JSON.stringify(b) } : {}) }),
        );
        assert.equal(r.statusCode, 403, `${key(op)} with a ${what} token: ${r.body}`);
        assert.equal((r.json() as { code: string }).code, 'CSRF_INVALID', key(op));
      }
    }
    assert.deepEqual(await state(), before, 'connectors, runs, audit trail and runs started: all as they were');
    assert.equal((await seen(admin.inject('GET', '/api/session'))).statusCode, 200, 'still signed in');
  });

  it('no password or secret in any answer or log line', async () => {
    for (const role of ROLES) for (const op of operations.filter((o) => o.method === 'GET')) await seen(clients[role].inject('GET', url(op, true)));
    // Secrets on the paths that fail: a wrong password, configurations refused by the schema, by checkConfig and by the cron check.
    assert.equal((await seen(h.app.inject({ method: 'POST', url: '/api/session', payload: { name: 'viewer', password: WRONG_PASSWORD } }))).statusCode, 401);
    const admin = clients['connector-admin'];
    const sftp = { kind: 'sftp', host: 'sftp.partner.example', port: 22, username: 'export', path: '/out', hostKey: HOST_KEY, password: SFTP_SECRET };
    for (const [config, status] of [
      [h.config('bad', { source: { ...sftp, port: 70_000 } as never }), 400],
      [h.config('bad', { source: { ...sftp, privateKey: SFTP_SECRET } as never }), 400],
      [h.config('bad', { source: sftp as never, schedule: 'at dawn' }), 400],
      [h.config('partner', { source: sftp as never }), 409],
    ] as const) {
      assert.equal((await seen(admin.inject('POST', '/api/connectors', config))).statusCode, status);
    }
    assert.equal((await seen(admin.inject('PUT', '/api/connectors/partner', h.config('partner', { source: { ...sftp, host: 'elsewhere.example', password: undefined } as never })))).statusCode, 400);
    const hashes = (await Promise.all(ROLES.map((r) => h.accounts.getAccount(r)))).map((a) => a!.passwordHash!);
    const forbidden = [SFTP_SECRET, PASSWORD, WRONG_PASSWORD, ...hashes, ...Object.values(clients).map((c) => c.cookie)];
    assert.ok(answers.length > 100, `${answers.length} answers searched`);
    assert.ok(h.logs.length > 100, `${h.logs.length} log lines searched`);
    for (const r of answers) {
      const text = `${r.body}\n${JSON.stringify(r.headers['set-cookie'] === undefined ? r.headers : { ...r.headers, 'set-cookie': null })}`;
      for (const secret of forbidden) assert.ok(!text.includes(secret), `an answer holds a secret: ${r.raw.req.method} ${r.raw.req.url} → ${r.body.slice(0, 200)}`);
      assert.ok(!/\n\s+at .+:\d+:\d+/.test(r.body), 'no stack trace');
    }
    for (const line of h.logs) for (const secret of forbidden) assert.ok(!line.includes(secret), `a log line holds a secret: ${line.slice(0, 300)}`);
  });
});
