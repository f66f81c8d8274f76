import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDirectory, loadDirectory } from './directory.js';

const HEADER = 'email,name,aliases,litigationHold';

describe('loadDirectory: reading users.csv', () => {
  const csv = [
    HEADER,
    'Ana@corp.example,Ana Ruiz,ana.ruiz@corp.example;ar@corp.example,true',
    '"bo@corp.example","Chen, Bo",,FALSE',
    '',
    'desk@corp.example,FX desk, desk-fx@corp.example ; ;,True',
  ].join('\r\n');

  it('lists every mailbox with its aliases and hold, as written', () => {
    const d = loadDirectory(csv, 'users.csv');
    assert.deepEqual(d.mailboxes, [
      { address: 'Ana@corp.example', name: 'Ana Ruiz', aliases: ['ana.ruiz@corp.example', 'ar@corp.example'], litigationHold: true },
      { address: 'bo@corp.example', name: 'Chen, Bo', aliases: [], litigationHold: false },
      { address: 'desk@corp.example', name: 'FX desk', aliases: ['desk-fx@corp.example'], litigationHold: true },
    ]);
  });

  it('finds a mailbox by address or alias in any case, giving its canonical address', () => {
    const d = loadDirectory(csv, 'users.csv');
    assert.equal(d.find('ana@CORP.example')?.address, 'Ana@corp.example');
    assert.equal(d.find('AR@corp.example')?.address, 'Ana@corp.example');
    assert.equal(d.find('DESK-FX@corp.example')?.address, 'desk@corp.example');
    assert.equal(d.find('nobody@corp.example'), undefined);
  });

  it('accepts a BOM, and drops an alias equal to its own address or repeated in its row', () => {
    const d = loadDirectory(`\uFEFF${HEADER}\nana@corp.example,Ana,ANA@corp.example;a@corp.example;A@corp.example,false\n`, 'users.csv');
    assert.deepEqual(d.mailboxes[0]?.aliases, ['a@corp.example']);
  });

  it('accepts a directory with a header and no users', () => {
    assert.deepEqual(loadDirectory(`${HEADER}\n`, 'users.csv').mailboxes, []);
  });

  const faults: [string, string, string][] = [
    ['an empty file', '', 'users.csv line 1: the file is empty; its first line must be the header "email,name,aliases,litigationHold"'],
    ['a header in another case', 'Email,Name,Aliases,LitigationHold\n', 'users.csv line 1: the header must be exactly "email,name,aliases,litigationHold", found "Email,Name,Aliases,LitigationHold"'],
    ['a header with a column missing', '\nemail,name,aliases\n', 'users.csv line 2: the header must be exactly "email,name,aliases,litigationHold", found "email,name,aliases"'],
    ['a row with too few fields', `${HEADER}\nana@corp.example,Ana,false\n`, 'users.csv line 2: expected 4 fields (email,name,aliases,litigationHold), found 3'],
    ['an email that is not an address', `${HEADER}\nana@corp.example,Ana,,true\n\nbo at corp,Bo,,true\n`, 'users.csv line 4: email: "bo at corp" is not an email address'],
    ['an empty email', `${HEADER}\n,Ana,,true\n`, 'users.csv line 2: email: "" is not an email address'],
    ['an alias that is not an address', `${HEADER}\nana@corp.example,Ana,ana;x@corp.example,true\n`, 'users.csv line 2: aliases: "ana" is not an email address'],
    ['a litigationHold that is not a boolean', `${HEADER}\nana@corp.example,Ana,,yes\n`, 'users.csv line 2: litigationHold: must be true or false, found "yes"'],
    ['an empty litigationHold', `${HEADER}\nana@corp.example,Ana,,\n`, 'users.csv line 2: litigationHold: must be true or false, found ""'],
    ['an address listed twice, in another case', `${HEADER}\nana@corp.example,Ana,,true\nbo@corp.example,Bo,,true\nANA@corp.example,Ana 2,,true\n`, 'users.csv line 4: email: ANA@corp.example is already the address of a mailbox (users.csv line 2)'],
    ['an alias of two mailboxes', `${HEADER}\nana@corp.example,Ana,desk@corp.example,true\nbo@corp.example,Bo,Desk@corp.example,true\n`, 'users.csv line 3: aliases: Desk@corp.example is already an alias of ana@corp.example (users.csv line 2)'],
    ['an alias equal to an earlier mailbox\'s address', `${HEADER}\nana@corp.example,Ana,,true\nbo@corp.example,Bo,ana@corp.example,true\n`, 'users.csv line 3: aliases: ana@corp.example is already the address of a mailbox (users.csv line 2)'],
    ['an address equal to an earlier mailbox\'s alias', `${HEADER}\nana@corp.example,Ana,bo@corp.example,true\nbo@corp.example,Bo,,true\n`, 'users.csv line 3: email: bo@corp.example is already an alias of ana@corp.example (users.csv line 2)'],
    ['a broken quote', `${HEADER}\nana@corp.example,"Ana,,true\n`, 'users.csv line 2: a quoted field is not closed (a " is missing)'],
  ];
  for (const [what, text, detail] of faults) {
    it(`refuses ${what}, naming the line and the rule`, () => {
      assert.throws(() => loadDirectory(text, 'users.csv'), { name: 'XipError', code: 'DIRECTORY_INVALID', detail });
    });
  }

  it('counts lines inside a quoted name that spans lines', () => {
    assert.throws(() => loadDirectory(`${HEADER}\nana@corp.example,"Ana\nRuiz",,true\nbo@corp.example,Bo,,maybe\n`, 'users.csv'), {
      code: 'DIRECTORY_INVALID',
      detail: 'users.csv line 4: litigationHold: must be true or false, found "maybe"',
    });
  });
});

describe('createDirectory: another directory source gets the same checks', () => {
  it('refuses an alias that is another mailbox\'s address, naming the mailbox', () => {
    assert.throws(
      () => createDirectory([
        { address: 'ana@corp.example', name: 'Ana', aliases: [], litigationHold: false },
        { address: 'bo@corp.example', name: 'Bo', aliases: ['Ana@corp.example'], litigationHold: false },
      ]),
      { code: 'DIRECTORY_INVALID', detail: 'mailbox 2: aliases: Ana@corp.example is already the address of a mailbox (mailbox 1)' },
    );
  });
});
