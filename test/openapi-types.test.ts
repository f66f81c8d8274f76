// The console's typed client (console/src/api/schema.ts) is the server's
// OpenAPI document as it is now: a route or schema changed without
// regenerating the file fails here, before the console is typed against an
// API that no longer exists.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { generateSchema, SCHEMA_FILE } from '../scripts/openapi-types.js';

test('console/src/api/schema.ts is generated from the server as it is (run npm run api:types)', async () => {
  const committed = await readFile(SCHEMA_FILE, 'utf8');
  const fresh = await generateSchema();
  assert.ok(committed === fresh, 'console/src/api/schema.ts is out of date with the server: run npm run api:types');
  assert.match(committed, /"\/api\/connectors\/\{name\}"/);
});
