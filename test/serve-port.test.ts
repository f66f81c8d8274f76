// xip serve on a port already taken: it ends with the error instead of
// starting its work. Before this was tested, the scheduler and the part
// worker started before the server listened and kept the failed process
// alive with nothing served.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../src/xip/test-support/container.js';
import { XIP_BIN } from './support/cli.js';

let dir: string;
before(async () => {
  dir = await tempDir('xip-serve-port-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('xip serve on a port in use', () => {
  it('exits non-zero naming the address in use, and does not stay running', { timeout: 60_000 }, async (t) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [XIP_BIN, 'serve', '--no-console', '--port', String(port)], { env: { ...process.env, XIP_HOME: join(dir, 'home'), XIP_SECRET_KEY: '', XIP_DATABASE_URL: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
      // A process that stays up fails the test at its timeout, and is killed then, not left behind.
      t.signal.addEventListener('abort', () => child.kill('SIGKILL'));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.notEqual(code, 0, stderr);
      assert.match(stderr, /EADDRINUSE|in use/i);
      assert.doesNotMatch(stderr, /xip serve started/);
    } finally {
      taken.close();
    }
  });
});
