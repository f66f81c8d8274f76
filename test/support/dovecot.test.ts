// The Dovecot harness itself: it serves IMAP on loopback only, runs
// unprivileged, answers doveadm, and leaves no process behind.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { startDovecot } from './dovecot.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('starts Dovecot unprivileged on 127.0.0.1, answers doveadm, and stops it by PID', async () => {
  const dovecot = await startDovecot({ users: ['ana@corp.example'] });
  let stopped = false;
  try {
    assert.equal(dovecot.host, '127.0.0.1');
    assert.ok(alive(dovecot.pid), 'the master runs');
    const status = await readFile(`/proc/${dovecot.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    assert.notEqual(uid, 0, 'the master does not run as root');
    assert.equal(uid, dovecot.runUser.uid);
    const config = await readFile(dovecot.configPath, 'utf8');
    assert.match(config, /^listen = 127\.0\.0\.1$/m);
    assert.match(config, new RegExp(`^mail_location = maildir:${dovecot.mailRoot}/%u$`, 'm'));
    const { stdout } = await dovecot.doveadm(['user', 'ana@corp.example']);
    assert.match(stdout, new RegExp(`home\\s+${dovecot.mailRoot}/ana@corp\\.example`));
    await assert.rejects(dovecot.doveadm(['user', 'nobody@corp.example']));
    assert.equal(dovecot.doveadmCommand(['user', 'x']).includes('-c'), true);
    await dovecot.stop();
    stopped = true;
    assert.equal(alive(dovecot.pid), false, 'the master is gone');
  } finally {
    if (!stopped) await dovecot.stop();
  }
});
