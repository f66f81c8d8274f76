// A throwaway Dovecot for tests and benches: Debian's dovecot-imapd, started
// on 127.0.0.1 on a free port with a configuration, passwd-files, state and
// log of its own in a temporary directory, and stopped by PID.
//
// Unprivileged: Dovecot runs "rootless" (its master and every service as one
// non-root user; Dovecot supports this when default_internal_user,
// default_login_user and mail_uid are all that user and no service chroots).
// Started as root, the harness creates the system user `xip-dovecot` once and
// runs Dovecot as that user; started as any other user, Dovecot runs as that
// user. The mail, state and log belong to that user; a test that writes mail
// as root (the Maildir target) hands it over with `adopt()` before Dovecot
// reads it.
//
// Dovecot dies with the test process even if that one is killed: it is
// started under a small shell that reads the harness's pipe and stops Dovecot
// when the pipe closes (stdin EOF), which the kernel does when the test
// process dies for any reason.
import { oauth2ArgsText, oauth2Passdbs, tokenMechanisms, type DovecotOAuth2Options } from './dovecot-oauth2.js';
import { checkName, freePort, serverStopper, spawnWatched, waitForGreeting, type RunUser } from './server-process.js';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const DOVECOT_BIN = '/usr/sbin/dovecot';
/** dovecot-imapd's own binary: dovecot-core alone (left when another imap-server package replaced dovecot-imapd) has no IMAP. */
const DOVECOT_IMAP = '/usr/lib/dovecot/imap';
export const DOVEADM_BIN = '/usr/bin/doveadm';
/** The system user Dovecot runs as when the harness is started as root. */
export const DOVECOT_RUN_USER = 'xip-dovecot';
const SETUP_LOCK = join(tmpdir(), 'xip-dovecot-setup.lock');

/**
 * Dovecot 2.3's own post-login capability list (what it announces when
 * imap_capability is unset), for tests that take capabilities away.
 */
export const DOVECOT_DEFAULT_CAPABILITIES = [
  'IMAP4rev1', 'SASL-IR', 'LOGIN-REFERRALS', 'ID', 'ENABLE', 'IDLE', 'SORT', 'SORT=DISPLAY', 'THREAD=REFERENCES', 'THREAD=REFS',
  'THREAD=ORDEREDSUBJECT', 'MULTIAPPEND', 'URL-PARTIAL', 'CATENATE', 'UNSELECT', 'CHILDREN', 'NAMESPACE', 'UIDPLUS', 'LIST-EXTENDED',
  'I18NLEVEL=1', 'CONDSTORE', 'QRESYNC', 'ESEARCH', 'ESORT', 'SEARCHRES', 'WITHIN', 'CONTEXT=SEARCH', 'LIST-STATUS', 'BINARY', 'MOVE',
  'SNIPPET=FUZZY', 'PREVIEW=FUZZY', 'PREVIEW', 'STATUS=SIZE', 'SAVEDATE', 'LITERAL+', 'NOTIFY',
] as const;

export interface DovecotUser {
  readonly name: string;
  readonly password?: string;
}

export interface StartDovecotOptions {
  /** Mailboxes that exist (the passdb and userdb); anything else is refused at login. */
  readonly users: readonly (string | DovecotUser)[];
  /** The administrative identity (a master passdb with `master = yes`, `pass = yes`). */
  readonly masterUser?: string;
  readonly masterPassword?: string;
  /** `mail_location = maildir:<mailRoot>/%u`; default <dir>/mail. Must be reachable by the run user. */
  readonly mailRoot?: string;
  /**
   * Largest message accepted: enforced by the quota plugin's
   * `quota_max_mail_size` (a larger APPEND gets `NO [LIMIT]`) and, unless
   * `advertiseAppendLimit` is false, announced as `APPENDLIMIT=<n>` (RFC 7889)
   * through imap_capability, as Dovecot 2.3 does not announce it by itself.
   */
  readonly appendLimit?: number;
  readonly advertiseAppendLimit?: boolean;
  /** Post-login capabilities to take away from DOVECOT_DEFAULT_CAPABILITIES (e.g. ['MULTIAPPEND']). */
  readonly withoutCapabilities?: readonly string[];
  /**
   * Keep Dovecot's auth penalty (default false: off). On, each refused login
   * from 127.0.0.1 delays the next ones by 2 s and more (up to 15 s), which
   * the tests of refused mailboxes would only wait through.
   */
  readonly authPenalty?: boolean;
  /** More lines for dovecot.conf. */
  readonly extraConfig?: string;
  /** Also take OAuth 2.0 bearer tokens (XOAUTH2, OAUTHBEARER) checked at an RFC 7662 endpoint, for any user of `users` (dovecot-oauth2.ts). */
  readonly oauth2?: DovecotOAuth2Options;
}

export interface Dovecot {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The temporary directory holding everything below. */
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly mailRoot: string;
  readonly masterUser: string;
  readonly masterPassword: string;
  readonly users: readonly Required<DovecotUser>[];
  readonly runUser: RunUser;
  readonly pid: number;
  /** Runs Dovecot's doveadm against this instance as the run user; rejects on a non-zero exit. */
  doveadm(args: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  /**
   * The command line that runs doveadm against this instance, for a shell or
   * a bench, e.g. importing a Maildir tree written by the Maildir target:
   * doveadmCommand(['import', '-u', USER, '-s', `maildir:${src}/${USER}`, '', 'mailbox', 'INBOX.XIP', 'all']).
   * Mind that doveadm import from a maildir on the same file system copies by
   * hard link (maildir_copy_with_hardlinks = yes, Dovecot's default), no bytes
   * and no fsync: for a yardstick that copies like a delivery does, start with
   * extraConfig 'maildir_copy_with_hardlinks = no'.
   */
  doveadmCommand(args: readonly string[]): string[];
  /** Gives a tree written by this process (as root) to the run user, so that Dovecot can read and update it. */
  adopt(path: string): Promise<void>;
  log(): Promise<string>;
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

let setupDone: Promise<RunUser> | undefined;

/**
 * Installs dovecot-imapd when missing and makes the run user; once per
 * process, serialised between processes with flock(1) so that parallel test
 * files do not race apt-get. Fails loudly when it cannot.
 */
export function ensureDovecot(): Promise<RunUser> {
  setupDone ??= setup();
  return setupDone;
}

async function setup(): Promise<RunUser> {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    if (!existsSync(DOVECOT_BIN)) {
      throw new Error(`${DOVECOT_BIN} is missing and this process is not root: install Debian's dovecot-imapd (apt-get install dovecot-imapd)`);
    }
    const name = (await execFileP('id', ['-un'])).stdout.trim();
    return { name, uid: process.getuid!(), gid: process.getgid!() };
  }
  if (!existsSync(DOVECOT_BIN) || !existsSync(DOVECOT_IMAP) || !(await userExists(DOVECOT_RUN_USER))) {
    const script = [
      'set -e',
      `if [ ! -x ${DOVECOT_BIN} ] || [ ! -x ${DOVECOT_IMAP} ]; then`,
      '  export DEBIAN_FRONTEND=noninteractive',
      '  apt-get update -o DPkg::Lock::Timeout=300',
      '  apt-get install -y -o DPkg::Lock::Timeout=300 dovecot-imapd',
      'fi',
      `id -u ${DOVECOT_RUN_USER} >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${DOVECOT_RUN_USER}`,
    ].join('\n');
    try {
      await execFileP('flock', [SETUP_LOCK, 'sh', '-c', script], { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string };
      throw new Error(`installing dovecot-imapd failed: ${err.message}\n${err.stderr ?? ''}`, { cause: e });
    }
    if (!existsSync(DOVECOT_BIN) || !existsSync(DOVECOT_IMAP)) throw new Error(`apt-get reported success but ${DOVECOT_BIN} or ${DOVECOT_IMAP} is still missing`);
  }
  const uid = Number((await execFileP('id', ['-u', DOVECOT_RUN_USER])).stdout.trim());
  const gid = Number((await execFileP('id', ['-g', DOVECOT_RUN_USER])).stdout.trim());
  return { name: DOVECOT_RUN_USER, uid, gid };
}

async function userExists(name: string): Promise<boolean> {
  try {
    await execFileP('id', ['-u', name]);
    return true;
  } catch {
    return false;
  }
}

function configText(o: {
  dir: string;
  port: number;
  mailRoot: string;
  runUser: RunUser;
  appendLimit: number | undefined;
  advertiseAppendLimit: boolean;
  withoutCapabilities: readonly string[];
  authPenalty: boolean;
  extraConfig: string;
  oauth2: DovecotOAuth2Options | undefined;
}): string {
  const capabilities: string[] = DOVECOT_DEFAULT_CAPABILITIES.filter((c) => !o.withoutCapabilities.includes(c));
  if (o.appendLimit !== undefined && o.advertiseAppendLimit) capabilities.push(`APPENDLIMIT=${o.appendLimit}`);
  const lines = [
    `# written by test/support/dovecot.ts`,
    `protocols = imap`,
    `listen = 127.0.0.1`,
    `instance_name = xip-test-${o.port}`,
    `base_dir = ${o.dir}/run`,
    `state_dir = ${o.dir}/state`,
    `log_path = ${o.dir}/dovecot.log`,
    `info_log_path = ${o.dir}/dovecot.log`,
    `ssl = no`,
    `disable_plaintext_auth = no`,
    `auth_mechanisms = plain login${o.oauth2 ? ` ${tokenMechanisms(o.oauth2)}` : ''}`,
    `auth_master_user_separator = *`,
    `auth_failure_delay = 0`,
    `auth_verbose = yes`,
    // rootless: every process runs as the run user
    `default_internal_user = ${o.runUser.name}`,
    `default_internal_group = ${o.runUser.name}`,
    `default_login_user = ${o.runUser.name}`,
    `mail_uid = ${o.runUser.uid}`,
    `mail_gid = ${o.runUser.gid}`,
    `first_valid_uid = 1`,
    `first_valid_gid = 0`,
    `mail_location = maildir:${o.mailRoot}/%u`,
    `service imap-login {`,
    `  chroot =`,
    `  inet_listener imap {`,
    `    address = 127.0.0.1`,
    `    port = ${o.port}`,
    `  }`,
    `  inet_listener imaps {`,
    `    port = 0`,
    `  }`,
    `}`,
    `service anvil {`,
    `  chroot =`,
    ...(o.authPenalty ? [] : [`  unix_listener anvil-auth-penalty {`, `    mode = 0`, `  }`]),
    `}`,
    `passdb {`,
    `  driver = passwd-file`,
    `  args = ${o.dir}/master-users`,
    `  master = yes`,
    `  pass = yes`,
    `}`,
    ...(o.oauth2 ? oauth2Passdbs(o.oauth2, `${o.dir}/dovecot-oauth2.conf.ext`, `${o.dir}/users`) : []),
    `passdb {`,
    `  driver = passwd-file`,
    `  args = ${o.dir}/users`,
    `}`,
    `userdb {`,
    `  driver = passwd-file`,
    `  args = ${o.dir}/users`,
    `  default_fields = home=${o.mailRoot}/%u`,
    `}`,
  ];
  if (o.withoutCapabilities.length > 0 || (o.appendLimit !== undefined && o.advertiseAppendLimit)) {
    lines.push(`imap_capability = ${capabilities.join(' ')}`);
  }
  if (o.appendLimit !== undefined) {
    lines.push(
      `mail_plugins = $mail_plugins quota`,
      `plugin {`,
      `  quota = count:User quota`,
      `  quota_vsizes = yes`,
      `  quota_max_mail_size = ${o.appendLimit}`,
      `}`,
    );
  }
  lines.push(o.extraConfig);
  return lines.join('\n') + '\n';
}

export async function startDovecot(options: StartDovecotOptions): Promise<Dovecot> {
  const runUser = await ensureDovecot();
  const isRoot = process.getuid?.() === 0;
  const masterUser = options.masterUser ?? 'xip-admin';
  const masterPassword = options.masterPassword ?? randomBytes(12).toString('hex');
  checkName('masterUser', masterUser);
  checkName('masterPassword', masterPassword);
  const users = options.users.map((u) => (typeof u === 'string' ? { name: u, password: 'password' } : { name: u.name, password: u.password ?? 'password' }));
  for (const u of users) {
    checkName('user', u.name);
    checkName('password', u.password);
  }

  const dir = await mkdtemp(join(tmpdir(), 'xip-dovecot-'));
  const mailRoot = options.mailRoot ?? join(dir, 'mail');
  await mkdir(mailRoot, { recursive: true });
  await mkdir(join(dir, 'run'));
  await mkdir(join(dir, 'state'));
  const configPath = join(dir, 'dovecot.conf');
  const logPath = join(dir, 'dovecot.log');
  await writeFile(join(dir, 'master-users'), `${masterUser}:{PLAIN}${masterPassword}\n`, { mode: 0o600 });
  // name:password:uid:gid:gecos:home:shell:extra — uid/gid empty: mail_uid/mail_gid apply
  await writeFile(join(dir, 'users'), users.map((u) => `${u.name}:{PLAIN}${u.password}::::::\n`).join(''), { mode: 0o600 });
  await writeFile(logPath, '', { mode: 0o600 });
  if (options.oauth2) await writeFile(join(dir, 'dovecot-oauth2.conf.ext'), oauth2ArgsText(options.oauth2), { mode: 0o600 });

  const adopt = async (path: string): Promise<void> => {
    if (!isRoot) return;
    await execFileP('chown', ['-R', `${runUser.uid}:${runUser.gid}`, path]);
  };

  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    await writeFile(
      configPath,
      configText({
        dir,
        port,
        mailRoot,
        runUser,
        appendLimit: options.appendLimit,
        advertiseAppendLimit: options.advertiseAppendLimit ?? true,
        withoutCapabilities: options.withoutCapabilities ?? [],
        authPenalty: options.authPenalty ?? false,
        extraConfig: options.extraConfig ?? '',
        oauth2: options.oauth2,
      }),
    );
    if (isRoot) {
      await adopt(dir);
      await chmod(dir, 0o700);
      if (options.mailRoot) await adopt(mailRoot);
    }
    const { child: started, stderr: stderrOf } = spawnWatched(DOVECOT_BIN, ['-F', '-c', configPath], { cwd: dir, ...(isRoot ? { uid: runUser.uid, gid: runUser.gid } : {}) });
    try {
      await waitForGreeting('dovecot', port, started, 20_000);
      child = started;
    } catch (e) {
      started.stdin?.end();
      started.kill('SIGKILL');
      const log = await readFile(logPath, 'utf8').catch(() => '');
      lastError = new Error(`${(e as Error).message}\n--- stderr\n${stderrOf()}\n--- ${logPath}\n${log}`);
      if (!/bind|in use/i.test(log + stderrOf())) break; // only a lost port race is worth another try
    }
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }
  const running = child;
  const pid = Number((await readFile(join(dir, 'run', 'master.pid'), 'utf8')).trim());

  const stop = serverStopper(running, pid, dir);

  const doveadmCommand = (args: readonly string[]): string[] => {
    const base = [DOVEADM_BIN, '-c', configPath, ...args];
    return isRoot ? ['runuser', '-u', runUser.name, '--', ...base] : base;
  };

  return {
    host: '127.0.0.1',
    port,
    dir,
    configPath,
    logPath,
    mailRoot,
    masterUser,
    masterPassword,
    users,
    runUser,
    pid,
    async doveadm(args) {
      try {
        const { stdout, stderr } = await execFileP(DOVEADM_BIN, ['-c', configPath, ...args], {
          cwd: dir,
          maxBuffer: 256 * 1024 * 1024,
          ...(isRoot ? { uid: runUser.uid, gid: runUser.gid } : {}),
        });
        return { stdout, stderr };
      } catch (e) {
        const err = e as Error & { stderr?: string };
        throw new Error(`doveadm ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}`, { cause: e });
      }
    },
    doveadmCommand,
    adopt,
    log: () => readFile(logPath, 'utf8'),
    stop,
  };
}

/**
 * A Dovecot serving the Maildir++ mailboxes of `users` under `dir`/mail (made
 * here), with the master user xip-admin: what the end-to-end import tests
 * write into and read back through. `dir` is opened to Dovecot's own
 * unprivileged user, which must reach the mail root.
 */
export async function startDovecotOnMailRoot(dir: string, users: readonly string[]): Promise<{ dovecot: Dovecot; mailRoot: string }> {
  const mailRoot = join(dir, 'mail');
  await mkdir(mailRoot);
  await chmod(dir, 0o755);
  const dovecot = await startDovecot({ users, masterUser: 'xip-admin', mailRoot });
  await dovecot.adopt(mailRoot);
  return { dovecot, mailRoot };
}
