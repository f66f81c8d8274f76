import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { connectorLogCsv, csvField, formatConnectorLog, nothingIngested, summarize, type ConnectorRunLog } from './connector-log.js';
import { RunLog, type RunEvent, type RunLogJson } from './run-log.js';

const failure = { itemId: 'x', sourceUserId: null, mailbox: 'a@corp.example', reason: 'no', code: 'STORAGE_FULL' };

/** Random runs as the stages emit them: items planned with 0-3 copies, each copy settled (or left open when the run stops), plus failed items. */
const runEvents = fc
  .array(fc.record({ copies: fc.array(fc.constantFrom('delivered', 'duplicate', 'elsewhere', 'failed', 'open'), { maxLength: 3 }), invalid: fc.boolean() }), { maxLength: 30 })
  .map((items) => {
    const events: RunEvent[] = [];
    items.forEach((item, seq) => {
      events.push({ kind: 'item-read' });
      if (item.invalid || item.copies.length === 0) {
        events.push({ kind: 'item-failed', failure: { ...failure, code: 'ITEM_INVALID' } });
        return;
      }
      events.push({ kind: 'planned', seq, copies: item.copies.length });
      for (const c of item.copies) {
        if (c === 'open') continue;
        if (c === 'failed') events.push({ kind: 'copy-failed', seq, failure });
        else events.push({ kind: 'copy', seq, result: c });
      }
    });
    if (items.some((i) => i.copies.includes('open'))) events.push({ kind: 'stopped', code: 'LEASE_LOST' });
    return events;
  });

function logOf(events: readonly RunEvent[]): RunLogJson {
  const log = new RunLog();
  for (const e of events) log.apply(e);
  return log.toJSON();
}

describe("the connector log's figures", () => {
  it('available for import = imported + partially imported + skipped + failed, for any run', () => {
    fc.assert(
      fc.property(runEvents, (events) => {
        const s = summarize(logOf(events));
        assert.equal(s.itemsAvailableForImport, s.imported + s.partiallyImported + s.skippedDuplicates + s.failed);
      }),
    );
  });

  it('a log whose figures do not add up is refused, not shown', () => {
    const log = { ...logOf([{ kind: 'item-read' }, { kind: 'planned', seq: 1, copies: 2 }, { kind: 'copy', seq: 1, result: 'delivered' }, { kind: 'copy', seq: 1, result: 'delivered' }]) };
    assert.equal(summarize(log).imported, 2);
    assert.throws(() => summarize({ ...log, imported: 3 }), /do not add up/);
  });

  it('copies a stopped run never attempted count as failed; copies another run delivers count as skipped', () => {
    const s = summarize(
      logOf([
        { kind: 'item-read' },
        { kind: 'planned', seq: 1, copies: 3 },
        { kind: 'copy', seq: 1, result: 'elsewhere' },
        { kind: 'copy', seq: 1, result: 'delivered' },
        { kind: 'stopped', code: 'LEASE_LOST' },
      ]),
    );
    assert.deepEqual(s, { itemsAvailableFromSource: 1, itemsAvailableForImport: 3, imported: 1, partiallyImported: 0, skippedDuplicates: 1, failed: 1 });
  });
});

const run = (log: RunLogJson | null, completedAt = new Date('2026-11-30T02:00:05Z')): ConnectorRunLog => ({
  runId: 7,
  connector: 'chat',
  trigger: 'schedule',
  startedAt: new Date('2026-11-30T02:00:00Z'),
  completedAt,
  ok: true,
  code: null,
  log,
});

describe('the downloadable log', () => {
  it('escapes fields a spreadsheet would run as formulas, and quotes as RFC 4180 says', () => {
    assert.equal(csvField('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
    for (const lead of ['+', '-', '@', '\t', '\r']) assert.equal(csvField(`${lead}1`).replace(/^"|"$/g, '')[0], "'");
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('line\nbreak'), '"line\nbreak"');
    assert.equal(csvField(12), '12');
    assert.equal(csvField(null), '');
  });

  it('has a row per figure, container, failure and unmapped user, with CRLF line ends', () => {
    const log = logOf([{ kind: 'item-read' }, { kind: 'planned', seq: 1, copies: 1 }, { kind: 'copy-failed', seq: 1, failure: { ...failure, itemId: '=cmd|calc' } }, { kind: 'unmapped', sourceId: 'u-9', email: 'gus@corp.example' }]);
    const withContainers = { ...log, containers: [{ file: 'bad.xip', sha256: 'ab'.repeat(32), ok: false, code: 'DIGEST_MISMATCH', message: 'altered' }] };
    const csv = connectorLogCsv([{ run: run(withContainers), failures: withContainers.failures }]);
    const lines = csv.split('\r\n');
    assert.equal(lines[0], 'runId,completedAt,record,name,value,itemId,sourceUserId,mailbox,file,sha256,code,reason');
    assert.ok(lines.includes('7,2026-11-30T02:00:05.000Z,count,Items available for import,1,,,,,,,'));
    assert.ok(lines.some((l) => l.includes(',container,rejected,,,,,bad.xip,') && l.includes('DIGEST_MISMATCH')));
    assert.ok(lines.some((l) => l.includes(",failure,,,'=cmd|calc,")), 'the formula is escaped');
    assert.ok(lines.some((l) => l.includes(',unmapped,gus@corp.example,1,,u-9,') && l.endsWith(',ITEM_UNMAPPED,')));
    assert.equal(csv.endsWith('\r\n'), true);
  });

  it('says "No items ingested on DATE" for a day when nothing came', () => {
    const quiet = run(logOf([]));
    assert.equal(nothingIngested(quiet), 'No items ingested on 2026-11-30');
    assert.ok(formatConnectorLog(quiet, []).includes('No items ingested on 2026-11-30'));
    assert.match(connectorLogCsv([{ run: quiet, failures: [] }]), /,note,,,,,,,,,No items ingested on 2026-11-30\r\n/);
    assert.equal(nothingIngested(run(logOf([{ kind: 'item-read' }]))), undefined);
  });
});
