import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XipError } from '../errors.js';
import { checkSchedule, nextRun, nextRuns, scheduleJob, scheduleKey, zoneOf } from './schedule.js';

describe('a connector schedule read in its time zone', () => {
  const from = new Date('2026-12-01T12:00:00Z');

  it('reads "0 2 * * *" at 02:00 of the zone named: 01:00 UTC in Paris in winter, 07:00 UTC in New York', () => {
    assert.equal(nextRun({ schedule: '0 2 * * *', timezone: 'Europe/Paris' }, from)?.toISOString(), '2026-12-02T01:00:00.000Z');
    assert.equal(nextRun({ schedule: '0 2 * * *', timezone: 'America/New_York' }, from)?.toISOString(), '2026-12-02T07:00:00.000Z');
    assert.deepEqual(
      nextRuns({ schedule: '0 2 * * *', timezone: 'UTC' }, 2, from).map((d) => d.toISOString()),
      ['2026-12-02T02:00:00.000Z', '2026-12-03T02:00:00.000Z'],
    );
  });

  it('without a zone, reads it in the process\'s own (as the scheduler always did)', () => {
    assert.equal(zoneOf({ schedule: '0 2 * * *' }), Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('refuses an unknown zone and a bad expression with CONFIG_INVALID naming the field', () => {
    assert.throws(() => checkSchedule({ schedule: '0 2 * * *', timezone: 'Mars/Olympus' }), (e: unknown) => e instanceof XipError && e.code === 'CONFIG_INVALID' && /^timezone "Mars\/Olympus"/.test(e.detail ?? e.message));
    assert.throws(() => checkSchedule({ schedule: 'every day' }, '--schedule'), (e: unknown) => e instanceof XipError && e.code === 'CONFIG_INVALID' && /--schedule "every day"/.test(e.detail ?? e.message));
    checkSchedule({ schedule: '*/5 * * * *', timezone: 'Asia/Kolkata' });
  });

  it('a job fires in its zone, and a changed zone is a changed schedule', () => {
    const job = scheduleJob({ schedule: '30 9 * * *', timezone: 'Asia/Kolkata' }, () => undefined);
    try {
      assert.equal(job.nextRun(from)?.toISOString(), '2026-12-02T04:00:00.000Z');
    } finally {
      job.stop();
    }
    assert.notEqual(scheduleKey({ schedule: '0 2 * * *', timezone: 'UTC' }), scheduleKey({ schedule: '0 2 * * *', timezone: 'Europe/Paris' }));
    assert.notEqual(scheduleKey({ schedule: '0 2 * * *' }), scheduleKey({ schedule: '0 2 * * *', timezone: 'UTC' }));
  });
});
