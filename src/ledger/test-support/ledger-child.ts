// A second process on the same ledger file (sqlite.test.ts):
//   node --import tsx ledger-child.ts <path> read '<CopyKey[] as JSON>'     prints the states as JSON
//   node --import tsx ledger-child.ts <path> deliver '{"runId":1,"rows":[…]}' marks the rows delivered
import { openSqliteLedger } from '../sqlite.js';

const [path, action, arg] = process.argv.slice(2);
if (path === undefined || arg === undefined) throw new Error('usage: ledger-child.ts <path> read|deliver <json>');
const ledger = await openSqliteLedger(path);
try {
  if (action === 'read') {
    console.log(JSON.stringify([...(await ledger.getDeliveries(JSON.parse(arg)))]));
  } else if (action === 'deliver') {
    const { runId, rows } = JSON.parse(arg);
    await ledger.markDelivered(rows, runId);
    console.log('delivered');
  } else {
    throw new Error(`unknown action ${action}`);
  }
} finally {
  await ledger.close();
}
