// xip user add|list|passwd|role|disable|enable|sessions revoke: the accounts
// of the web console and the HTTP API (docs/console.md), in the database
// under XIP_HOME. A password is read from XIP_USER_PASSWORD or, with
// --password-stdin, from the first line of standard input; never from a flag,
// which any user of the host can read in the process list. Every change is
// written to the audit trail with the actor cli:<OS user>. Exit codes as
// every command: 0 done, 2 usage (a weak password, an unknown role),
// ACCOUNT_EXISTS, ACCOUNT_NOT_FOUND or I/O.
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { XipError } from '../errors.js';
import { checkPassword, hashPassword } from '../home/passwords.js';
import { ROLES, type Account, type AccountStore, type Role } from '../ports/account-store.js';
import { withInstallation } from './connector.js';
import { EXIT_OK, runAction } from './exit.js';
import type { Output, SetExit } from './io.js';

export const PASSWORD_ENV = 'XIP_USER_PASSWORD';
/** The most standard input --password-stdin reads looking for the end of the first line. */
const STDIN_LIMIT = 16 * 1024;

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function checkAccountName(name: string): string {
  if (!NAME.test(name)) throw new XipError('USAGE', `account name "${name.slice(0, 80)}": must be 1 to 64 letters, digits, ".", "_", "-" or "@"`);
  return name;
}

export function checkRoleName(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) throw new XipError('USAGE', `role "${role.slice(0, 80)}": must be one of ${ROLES.join(', ')}`);
  return role as Role;
}

/** Who acts from the command line, for the audit trail: cli:<OS user name>. */
export function cliActor(): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // No entry in the user database (a container run under an arbitrary uid).
  }
  return `cli:${name || (typeof process.getuid === 'function' ? `uid-${process.getuid()}` : 'unknown')}`;
}

/** The first line of standard input, without its line ending; reading stops at the first newline. */
async function firstLineOfStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(b);
    size += b.length;
    if (b.includes(0x0a) || size > STDIN_LIMIT) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const end = text.indexOf('\n');
  if (end < 0 && size > STDIN_LIMIT) throw new XipError('USAGE', `--password-stdin: no line break in the first ${STDIN_LIMIT} bytes of standard input`);
  return (end < 0 ? text : text.slice(0, end)).replace(/\r$/, '');
}

/** The new password from its one allowed source, checked against the policy. */
async function newPassword(env: NodeJS.ProcessEnv, fromStdin: boolean | undefined): Promise<string> {
  let password: string;
  if (fromStdin) password = await firstLineOfStdin();
  else {
    const value = env[PASSWORD_ENV];
    if (value === undefined || value === '') throw new XipError('USAGE', `no password: set ${PASSWORD_ENV}, or give --password-stdin and write it on standard input (never on the command line)`);
    password = value;
  }
  checkPassword(password);
  return password;
}

async function mustGet(accounts: AccountStore, name: string): Promise<Account> {
  const account = await accounts.getAccount(name);
  if (!account) throw new XipError('ACCOUNT_NOT_FOUND', `there is no account named "${name}"`);
  return account;
}

function accountJson(a: Account) {
  return { name: a.name, role: a.role, createdAt: a.createdAt.toISOString(), disabled: a.disabled, hasPassword: a.passwordHash !== null };
}

type Act = (json: boolean | undefined, body: () => Promise<number>) => Promise<void>;
type Flags = { json?: boolean };
type PasswordFlags = Flags & { passwordStdin?: boolean };

export function registerUser(program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv): void {
  const user = program.command('user').description('accounts of the web console and the HTTP API (connector-admin, viewer, auditor)');
  const act: Act = (json, body) => runAction(io, json, body).then(setExit);
  /** Runs `body` on the installation's accounts, then records what it did (if anything) in the audit trail. */
  const change = (json: boolean | undefined, body: (accounts: AccountStore, at: Date) => Promise<{ action: string; target: string; detail?: Record<string, unknown>; result: Record<string, unknown>; text: string } | { result: Record<string, unknown>; text: string }>) =>
    act(json, () =>
      withInstallation(env, async (state) => {
        const at = new Date();
        const done = await body(state.accounts, at);
        if ('action' in done) await state.accounts.audit({ at, actor: cliActor(), action: done.action, target: done.target, detail: done.detail ?? {}, address: null });
        io.out(json ? JSON.stringify({ ok: true, ...done.result }) : done.text);
        return EXIT_OK;
      }),
    );

  user
    .command('add')
    .argument('<name>', '1 to 64 letters, digits, ".", "_", "-" or "@"')
    .requiredOption('--role <role>', `what the account may do: ${ROLES.join(', ')}`)
    .option('--password-stdin', `read the password from the first line of standard input (default: from ${PASSWORD_ENV})`)
    .option('--json', 'print the result as one JSON object')
    .description(`add an account (password from ${PASSWORD_ENV} or --password-stdin, at least 12 characters)`)
    .action((name: string, flags: PasswordFlags & { role: string }) =>
      change(flags.json, async (accounts, at) => {
        checkAccountName(name);
        const role = checkRoleName(flags.role);
        const password = await newPassword(env, flags.passwordStdin);
        if (await accounts.getAccount(name)) throw new XipError('ACCOUNT_EXISTS', `an account named "${name}" already exists`);
        await accounts.createAccount({ name, role, passwordHash: await hashPassword(password), at });
        return { action: 'user-added', target: name, detail: { role }, result: { name, role }, text: `account ${name} added with the role ${role}` };
      }),
    );

  user
    .command('list')
    .option('--json', 'print one JSON object')
    .description('every account: name, role, when it was added, whether it is disabled')
    .action((flags: Flags) =>
      act(flags.json, () =>
        withInstallation(env, async (state) => {
          const accounts = (await state.accounts.listAccounts()).map(accountJson);
          if (flags.json) io.out(JSON.stringify({ accounts }));
          else if (accounts.length === 0) io.out('no accounts yet: add one with xip user add NAME --role connector-admin');
          else {
            const width = Math.max(...accounts.map((a) => a.name.length));
            for (const a of accounts) io.out(`${a.name.padEnd(width)}  ${a.role.padEnd(15)}  ${a.createdAt}  ${a.disabled ? 'disabled' : 'enabled'}${a.hasPassword ? '' : '  (no password)'}`);
          }
          return EXIT_OK;
        }),
      ),
    );

  user
    .command('passwd')
    .argument('<name>')
    .option('--password-stdin', `read the password from the first line of standard input (default: from ${PASSWORD_ENV})`)
    .option('--json', 'print the result as one JSON object')
    .description("set an account's password; its sessions are revoked")
    .action((name: string, flags: PasswordFlags) =>
      change(flags.json, async (accounts, at) => {
        await mustGet(accounts, name);
        const password = await newPassword(env, flags.passwordStdin);
        await accounts.setPassword(name, await hashPassword(password));
        const revoked = await accounts.revokeSessions(name, at);
        return { action: 'user-password-changed', target: name, detail: { sessionsRevoked: revoked }, result: { name, sessionsRevoked: revoked }, text: `password of ${name} changed; ${sessions(revoked)} revoked` };
      }),
    );

  user
    .command('role')
    .argument('<name>')
    .argument('<role>', ROLES.join(', '))
    .option('--json', 'print the result as one JSON object')
    .description("change an account's role (its sessions take the new role at their next request)")
    .action((name: string, roleName: string, flags: Flags) =>
      change(flags.json, async (accounts) => {
        const role = checkRoleName(roleName);
        const before = await mustGet(accounts, name);
        if (before.role === role) return { result: { name, role, changed: false }, text: `account ${name} already has the role ${role}` };
        await accounts.setRole(name, role);
        return { action: 'user-role-changed', target: name, detail: { from: before.role, to: role }, result: { name, role, changed: true }, text: `account ${name} now has the role ${role} (was ${before.role})` };
      }),
    );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    user
      .command(verb)
      .argument('<name>')
      .option('--json', 'print the result as one JSON object')
      .description(disabled ? 'stop an account from signing in; its sessions are revoked' : 'let a disabled account sign in again')
      .action((name: string, flags: Flags) =>
        change(flags.json, async (accounts, at) => {
          const before = await mustGet(accounts, name);
          if (before.disabled !== disabled) await accounts.setDisabled(name, disabled);
          const revoked = disabled ? await accounts.revokeSessions(name, at) : 0;
          const result = { name, disabled, changed: before.disabled !== disabled, ...(disabled ? { sessionsRevoked: revoked } : {}) };
          if (before.disabled === disabled && revoked === 0) return { result, text: `account ${name} is already ${verb}d` };
          return { action: disabled ? 'user-disabled' : 'user-enabled', target: name, detail: disabled ? { sessionsRevoked: revoked } : {}, result, text: `account ${name} ${verb}d${disabled ? `; ${sessions(revoked)} revoked` : ''}` };
        }),
      );
  }

  user
    .command('sessions')
    .description("an account's console sessions")
    .command('revoke')
    .argument('<name>')
    .option('--json', 'print the result as one JSON object')
    .description('sign an account out everywhere (every live session revoked)')
    .action((name: string, flags: Flags) =>
      change(flags.json, async (accounts, at) => {
        await mustGet(accounts, name);
        const revoked = await accounts.revokeSessions(name, at);
        return { action: 'sessions-revoked', target: name, detail: { sessionsRevoked: revoked }, result: { name, sessionsRevoked: revoked }, text: `${sessions(revoked)} of ${name} revoked` };
      }),
    );
}

function sessions(n: number): string {
  return `${n} ${n === 1 ? 'session' : 'sessions'}`;
}
