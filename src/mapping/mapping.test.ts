import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDirectory } from './directory.js';
import { loadMapping } from './mapping.js';

const directory = loadDirectory('email,name,aliases,litigationHold\nana@corp.example,Ana,ana.ruiz@corp.example,true\nbo@corp.example,Bo,,false\n', 'users.csv');

describe('loadMapping: reading the custom mapping', () => {
  it('maps each sourceId to the canonical address of the mailbox named by address or alias, in any case', () => {
    const m = loadMapping('sourceId,mailbox\nu-991,ANA.RUIZ@corp.example\n"u,104",bo@corp.example\n', 'mapping.csv', directory);
    assert.equal(m.size, 2);
    assert.equal(m.find('u-991')?.address, 'ana@corp.example');
    assert.equal(m.find('u,104')?.address, 'bo@corp.example');
  });

  it('compares source ids exactly', () => {
    const m = loadMapping('sourceId,mailbox\nU-1,bo@corp.example\n', 'mapping.csv', directory);
    assert.equal(m.find('u-1'), undefined);
  });

  const faults: [string, string, string][] = [
    ['a wrong header', 'sourceid,mailbox\n', 'mapping.csv line 1: the header must be exactly "sourceId,mailbox", found "sourceid,mailbox"'],
    ['a mailbox not in the directory', 'sourceId,mailbox\nu-1,ana@corp.example\n\nu-2,carl@corp.example\n', 'mapping.csv line 4: mailbox: "carl@corp.example" is not an address or alias of the directory'],
    ['a repeated sourceId', 'sourceId,mailbox\nu-1,ana@corp.example\nu-1,bo@corp.example\n', 'mapping.csv line 3: sourceId: u-1 is already mapped on line 2'],
    ['an empty sourceId', 'sourceId,mailbox\n ,ana@corp.example\n', 'mapping.csv line 2: sourceId: must not be empty'],
    ['a row with three fields', 'sourceId,mailbox\nu-1,ana@corp.example,x\n', 'mapping.csv line 2: expected 2 fields (sourceId,mailbox), found 3'],
  ];
  for (const [what, text, detail] of faults) {
    it(`refuses ${what}, naming the line and the rule`, () => {
      assert.throws(() => loadMapping(text, 'mapping.csv', directory), { code: 'MAPPING_INVALID', detail });
    });
  }
});
