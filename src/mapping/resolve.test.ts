import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Item } from '../items/item.js';
import { validateItem } from '../items/schema.js';
import { loadDirectory } from './directory.js';
import { loadMapping } from './mapping.js';
import { mappingOptions, resolveMailboxes, type MappingOptions } from './resolve.js';

const directory = loadDirectory(
  [
    'email,name,aliases,litigationHold',
    'Ana@corp.example,Ana Ruiz,ana.ruiz@corp.example,true',
    'bo@corp.example,Bo Chen,,false',
    'cy@corp.example,Cy Diaz,cy.diaz@corp.example,true',
    'archive@corp.example,Archive,,false',
  ].join('\n'),
  'users.csv',
);
const mapping = loadMapping('sourceId,mailbox\nu-104,cy@corp.example\nu-991,ana@corp.example\n', 'mapping.csv', directory);
const options: MappingOptions = mappingOptions({ directory, mapping, holdOnly: false });

/** An item as the reader hands it over: validated and normalised (Email derived when absent). */
function item(fields: Record<string, unknown>): Item {
  const r = validateItem({ id: 'i-1', type: 'chat.message', sentAt: '2026-11-22T14:03:11+01:00', ...fields });
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.item;
}

describe('resolveMailboxes: whose mailboxes get a copy (xip-items.md §4)', () => {
  it('the custom mapping by sourceId wins over the email address, Email included', () => {
    const r = resolveMailboxes(item({ from: { email: 'bo@corp.example', sourceId: 'u-104' }, Email: ['BO@corp.example'] }), options);
    assert.deepEqual(r.mailboxes, ['cy@corp.example']);
    assert.deepEqual(r.unmapped, []);
  });

  it('maps by email when the sourceId is not in the custom mapping, or when there is no custom mapping', () => {
    const i = item({ from: { email: 'bo@corp.example', sourceId: 'u-unknown' } });
    assert.deepEqual(resolveMailboxes(i, options).mailboxes, ['bo@corp.example']);
    assert.deepEqual(resolveMailboxes(i, mappingOptions({ directory })).mailboxes, ['bo@corp.example']);
  });

  it('maps an alias, in any case, to the canonical address of the directory', () => {
    const r = resolveMailboxes(item({ from: { email: 'ANA.RUIZ@Corp.Example' }, participants: [{ email: 'CY@corp.example' }] }), options);
    assert.deepEqual(r.mailboxes, ['Ana@corp.example', 'cy@corp.example']);
  });

  it('gives a bcc recipient a copy', () => {
    const r = resolveMailboxes(item({ from: { email: 'desk@client.example' }, participants: [{ email: 'bo@corp.example', role: 'bcc' }] }), options);
    assert.deepEqual(r.mailboxes, ['bo@corp.example']);
  });

  it('maps every address of Email, even one that is no participant\'s', () => {
    const r = resolveMailboxes(item({ from: { email: 'desk@client.example' }, Email: ['desk@client.example', 'cy.diaz@corp.example'] }), options);
    assert.deepEqual(r.mailboxes, ['cy@corp.example']);
  });

  it('gives externals no copy, and reports each unmapped participant once', () => {
    const r = resolveMailboxes(
      item({
        from: { email: 'ana@corp.example' },
        participants: [
          { email: 'desk@client.example', role: 'cc' },
          { sourceId: 'ext-7', name: 'Trader' },
          { name: 'Someone' },
          { email: 'DESK@client.example' },
        ],
        Email: ['ana@corp.example', 'desk@client.example', 'other@client.example'],
      }),
      options,
    );
    assert.deepEqual(r.mailboxes, ['Ana@corp.example']);
    assert.deepEqual(r.unmapped, [{ email: 'desk@client.example' }, { sourceId: 'ext-7' }, { name: 'Someone' }, { email: 'other@client.example' }]);
    assert.equal(r.catchAll, false);
  });

  it('collapses duplicates to one copy per mailbox, in first-seen order', () => {
    const r = resolveMailboxes(
      item({
        from: { email: 'bo@corp.example' },
        participants: [
          { email: 'cy@corp.example', role: 'to' },
          { email: 'ana.ruiz@corp.example', role: 'cc' },
          { sourceId: 'u-991', role: 'bcc' },
          { email: 'BO@corp.example', role: 'member' },
        ],
        Email: ['cy.diaz@corp.example'],
      }),
      options,
    );
    assert.deepEqual(r.mailboxes, ['bo@corp.example', 'cy@corp.example', 'Ana@corp.example']);
  });

  it('sends an item that maps to nobody to the catch-all, named by alias or address', () => {
    const withCatchAll = mappingOptions({ directory, mapping, catchAll: 'ARCHIVE@corp.example', holdOnly: false });
    assert.equal(withCatchAll.catchAll, 'archive@corp.example');
    const r = resolveMailboxes(item({ from: { email: 'desk@client.example' } }), withCatchAll);
    assert.deepEqual(r, { mailboxes: ['archive@corp.example'], unmapped: [{ email: 'desk@client.example' }], skippedNotOnHold: [], catchAll: true });
  });

  it('does not use the catch-all when anything maps', () => {
    const withCatchAll = mappingOptions({ directory, mapping, catchAll: 'archive@corp.example' });
    const r = resolveMailboxes(item({ from: { email: 'desk@client.example' }, participants: [{ email: 'bo@corp.example' }] }), withCatchAll);
    assert.deepEqual(r.mailboxes, ['bo@corp.example']);
    assert.equal(r.catchAll, false);
  });

  it('without a catch-all, an item that maps to nobody gets no mailbox', () => {
    const r = resolveMailboxes(item({ from: { sourceId: 'ext-1' } }), options);
    assert.deepEqual(r, { mailboxes: [], unmapped: [{ sourceId: 'ext-1' }], skippedNotOnHold: [], catchAll: false });
  });

  it('refuses a catch-all that is not in the directory when the options are built', () => {
    assert.throws(() => mappingOptions({ directory, catchAll: 'nobody@corp.example' }), {
      code: 'MAPPING_INVALID',
      detail: 'the catch-all mailbox "nobody@corp.example" is not an address or alias of the directory',
    });
    assert.throws(() => resolveMailboxes(item({ from: { email: 'x@client.example' } }), { directory, catchAll: 'nobody@corp.example', holdOnly: false }), { code: 'MAPPING_INVALID' });
  });

  describe('holdOnly', () => {
    const hold = mappingOptions({ directory, mapping, catchAll: 'archive@corp.example', holdOnly: true });

    it('keeps only the mailboxes of users on hold, and lists the others once', () => {
      const r = resolveMailboxes(
        item({ from: { email: 'bo@corp.example' }, participants: [{ email: 'ana@corp.example' }, { sourceId: 'u-104' }, { email: 'BO@corp.example' }] }),
        hold,
      );
      assert.deepEqual(r, { mailboxes: ['Ana@corp.example', 'cy@corp.example'], unmapped: [], skippedNotOnHold: ['bo@corp.example'], catchAll: false });
    });

    it('does not send to the catch-all an item whose mailboxes were all skipped for hold', () => {
      const r = resolveMailboxes(item({ from: { email: 'bo@corp.example' }, participants: [{ email: 'desk@client.example' }] }), hold);
      assert.deepEqual(r, { mailboxes: [], unmapped: [{ email: 'desk@client.example' }], skippedNotOnHold: ['bo@corp.example'], catchAll: false });
    });

    it('sends an item that maps to nobody to the catch-all even when it is not on hold', () => {
      const r = resolveMailboxes(item({ from: { email: 'desk@client.example' } }), hold);
      assert.deepEqual(r.mailboxes, ['archive@corp.example']);
      assert.equal(r.catchAll, true);
    });
  });
});
