// The core imports no adapter (style.md: ports in the core, wiring at
// start-up only). The rule lives in eslint.config.js; this proves it bites,
// and that the tree as it stands obeys it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { ROOT } from './support/cli.js';

const eslint = new ESLint({ cwd: ROOT });

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the core imports no adapter', () => {
  const adapters = [
    "import { createMaildirTarget } from '../delivery/index.js';",
    "import { openSqliteLedger } from '../ledger/sqlite.js';",
    "import { fileSource } from '../sources/files.js';",
    "import { main } from '../cli/main.js';",
    "import { ImapFlow } from 'imapflow';",
    "import Database from 'better-sqlite3';",
  ];
  for (const folder of ['connector', 'items', 'message', 'mapping', 'xip', 'ports']) {
    it(`src/${folder}/ may not import an adapter`, async () => {
      for (const line of adapters) {
        const messages = await restrictedImports(`src/${folder}/probe.ts`, `${line}\nexport const x = 1;\n`);
        assert.equal(messages.length, 1, `${folder}: ${line}`);
        assert.match(messages[0]!, /The core imports no adapter/);
      }
    });
  }

  it('the ports and the wiring may: cli/ imports adapters, the core imports ports', async () => {
    assert.deepEqual(await restrictedImports('src/cli/probe.ts', `${adapters[0]}\nexport const x = 1;\n`), []);
    assert.deepEqual(await restrictedImports('src/connector/probe.ts', "import type { Ledger } from '../ports/ledger.js';\nexport type X = Ledger;\n"), []);
  });

  it('the tree obeys it', async () => {
    const results = await eslint.lintFiles(['src/{xip,items,message,mapping,connector,ports}/**/*.ts']);
    const broken = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line}`));
    assert.deepEqual(broken, []);
  });
});
