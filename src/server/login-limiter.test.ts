// The failed sign-in counter: per key, a sliding window, bounded memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginLimiter } from './login-limiter.js';

const at = (ms: number) => new Date(Date.UTC(2026, 11, 1) + ms);

describe('LoginLimiter', () => {
  it('refuses after max failures until the oldest leaves the window, and says so once per lock-out', () => {
    const limiter = new LoginLimiter({ max: 3, windowMs: 1000 });
    const keys = ['account:ana'];
    for (const t of [0, 100, 200]) {
      assert.equal(limiter.check(keys, at(t)).allowed, true);
      limiter.fail(keys, at(t));
    }
    const refused = limiter.check(keys, at(300));
    assert.deepEqual(refused, { allowed: false, retryAfterMs: 700, key: 'account:ana', firstRefusal: true });
    assert.equal((limiter.check(keys, at(400)) as { firstRefusal: boolean }).firstRefusal, false);
    assert.equal(limiter.check(keys, at(1000)).allowed, true, 'the first failure left the window');
    limiter.fail(keys, at(1000));
    assert.equal((limiter.check(keys, at(1001)) as { firstRefusal: boolean }).firstRefusal, true, 'a new lock-out is reported again');
  });

  it('clear forgets a key; other keys are unaffected', () => {
    const limiter = new LoginLimiter({ max: 1, windowMs: 1000 });
    limiter.fail(['account:ana', 'address:192.0.2.1'], at(0));
    limiter.clear('account:ana');
    assert.equal(limiter.check(['account:ana'], at(1)).allowed, true);
    assert.equal(limiter.check(['address:192.0.2.1'], at(1)).allowed, false);
  });

  it('keys: names case-folded and NFKC-normalised, IPv6 addresses by their /64', () => {
    assert.equal(LoginLimiter.accountKey('ÅNA'), LoginLimiter.accountKey('A\u030ana'));
    assert.equal(LoginLimiter.addressKey('2001:db8:1:2::1'), LoginLimiter.addressKey('2001:db8:1:2:ffff::9'));
    assert.notEqual(LoginLimiter.addressKey('2001:db8:1:2::1'), LoginLimiter.addressKey('2001:db8:1:3::1'));
    assert.equal(LoginLimiter.addressKey('::ffff:192.0.2.1'), LoginLimiter.addressKey('192.0.2.1'));
  });

  it('holds at most maxKeys keys, dropping spent ones first, then the oldest', () => {
    const limiter = new LoginLimiter({ max: 1, windowMs: 1000, maxKeys: 2 });
    limiter.fail(['a'], at(0));
    limiter.fail(['b'], at(500));
    limiter.fail(['c'], at(1200)); // a has left its window: it goes, b stays
    assert.equal(limiter.check(['b'], at(1200)).allowed, false);
    limiter.fail(['d'], at(1300)); // none spent: the oldest (b) goes
    assert.equal(limiter.check(['b'], at(1300)).allowed, true);
    assert.equal(limiter.check(['c'], at(1300)).allowed, false);
    assert.equal(limiter.check(['d'], at(1300)).allowed, false);
  });
});
