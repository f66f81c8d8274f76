// The Cyrus harness itself: Cyrus serves IMAP on loopback only, unprivileged,
// from an imapd kept in the cache; the administrator acts for a user of a
// virtual domain by SASL PLAIN authorization identity and lands in that
// user's mailbox; a wrong password is refused; master is stopped by PID.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { CYRUS_CACHE, startCyrus } from './cyrus.js';
import { testMessage } from './messages.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('starts Cyrus unprivileged on 127.0.0.1 with virtual domains, lets the admin act for a user by SASL PLAIN authzid, and stops it by PID', async () => {
  const cyrus = await startCyrus({ users: ['ana@corp.example', 'ana@other.example'] });
  let stopped = false;
  try {
    assert.ok(alive(cyrus.pid), 'master runs');
    const status = await readFile(`/proc/${cyrus.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    assert.notEqual(uid, 0, 'master does not run as root');
    assert.equal(uid, cyrus.runUser.uid);
    const exe = await readFile(`${cyrus.dir}/cyrus.conf`, 'utf8');
    assert.match(exe, new RegExp(`cmd="${CYRUS_CACHE}/[^"]+/usr/lib/cyrus/bin/imapd `), 'imapd comes from the cache');
    assert.match(exe, /listen="127\.0\.0\.1:\d+"/);

    // Acting for ana@corp.example: her INBOX is user/ana@corp.example, not the other domain's ana.
    const message = testMessage({ id: 'harness-1' });
    const ana = await cyrus.openAs('ana@corp.example');
    try {
      await ana.append('INBOX', message.bytes, ['\\Seen']);
    } finally {
      await ana.logout();
    }
    const admin = await cyrus.openAs();
    try {
      const paths = (await admin.list()).map((f) => f.path).sort();
      assert.deepEqual(paths, ['user/ana@corp.example', 'user/ana@other.example'], 'one mailbox per user, each in its domain');
    } finally {
      await admin.logout();
    }
    const countFor = async (user: string): Promise<number | undefined> => {
      const client = await cyrus.openAs(user);
      try {
        const status = await client.status('INBOX', { messages: true });
        return status ? status.messages : undefined;
      } finally {
        await client.logout();
      }
    };
    assert.equal(await countFor('ana@corp.example'), 1, "the message is in ana@corp.example's INBOX");
    assert.equal(await countFor('ana@other.example'), 0, 'and not in the other domain\'s ana');

    const { ImapFlow } = await import('imapflow');
    const wrong = new ImapFlow({ host: '127.0.0.1', port: cyrus.port, secure: false, doSTARTTLS: false, auth: { user: cyrus.adminUser, pass: 'not-the-password', authzid: 'ana@corp.example', loginMethod: 'AUTH=PLAIN' }, logger: false });
    wrong.on('error', () => undefined);
    await assert.rejects(wrong.connect(), (e: { authenticationFailed?: boolean }) => e.authenticationFailed === true);

    await cyrus.stop();
    stopped = true;
    assert.equal(alive(cyrus.pid), false, 'master is gone');
  } finally {
    if (!stopped) await cyrus.stop();
  }
});
