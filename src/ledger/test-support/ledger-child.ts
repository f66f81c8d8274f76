// A second process on the same ledger file (sqlite.test.ts, contention.test.ts):
//   node --import tsx ledger-child.ts <path> read '<CopyKey[] as JSON>'     prints the states as JSON
//   node --import tsx ledger-child.ts <path> deliver '{"runId":1,"rows":[…]}' marks the rows delivered
//   node --import tsx ledger-child.ts <path> serve [writer]                 answers commands, one JSON line each way,
//                                                                            through WRITERS[writer] (default 0, the prepared statements):
//     {"op":"start","leaseMs":n}                        → {"runId":n}         starts this process's run
//     {"op":"claim","mailbox","folder","ids":[…]}       → [[id, Claim], …]    one claim by this process's run
//     {"op":"claim-loop","mailbox","folder","batches"}  → one line per batch  claims batch after batch, never finishing
//     {"op":"expire","runId":n}                         → "expired"
//     {"op":"advance","ms":n}                           → "advanced"          moves this process's ledger clock forward
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { openSqliteLedger } from '../sqlite.js';
import { WRITERS } from './ledgers.js';

const [path, action, arg] = process.argv.slice(2);
if (path === undefined || (arg === undefined && action !== 'serve')) throw new Error('usage: ledger-child.ts <path> read|deliver <json> | serve');
let offsetMs = 0;
const now = () => new Date(Date.now() + offsetMs);
const open = action === 'serve' ? WRITERS[Number(arg ?? 0)]?.[1] : (p: string) => openSqliteLedger(p);
if (open === undefined) throw new Error(`no writer ${arg}`);
const ledger = await open(path, now);
try {
  if (action === 'read') {
    console.log(JSON.stringify([...(await ledger.getDeliveries(JSON.parse(arg as string)))]));
  } else if (action === 'deliver') {
    const { runId, rows } = JSON.parse(arg as string);
    await ledger.markDelivered(rows, runId);
    console.log('delivered');
  } else if (action === 'serve') {
    let runId = 0;
    const answer = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
    for await (const line of createInterface({ input: process.stdin })) {
      const cmd = JSON.parse(line);
      if (cmd.op === 'start') {
        runId = await ledger.startRun({ startedAt: new Date(), command: 'ledger-child', host: hostname(), pid: process.pid, leaseMs: cmd.leaseMs });
        answer({ runId });
      } else if (cmd.op === 'claim') {
        answer([...(await ledger.claim(cmd.mailbox, cmd.folder, cmd.ids, runId))]);
      } else if (cmd.op === 'claim-loop') {
        for (const ids of cmd.batches) answer([...(await ledger.claim(cmd.mailbox, cmd.folder, ids, runId))]);
      } else if (cmd.op === 'expire') {
        await ledger.expireRun(cmd.runId);
        answer('expired');
      } else if (cmd.op === 'advance') {
        offsetMs += cmd.ms;
        answer('advanced');
      } else {
        throw new Error(`unknown op ${cmd.op}`);
      }
    }
  } else {
    throw new Error(`unknown action ${action}`);
  }
} finally {
  await ledger.close();
}
