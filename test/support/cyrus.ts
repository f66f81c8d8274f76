// A throwaway Cyrus IMAP for tests: Debian's Cyrus 3.6, started on 127.0.0.1
// on a free port with its configuration, databases, spool and SASL password
// file in a temporary directory, and stopped by PID.
//
// Debian's cyrus-imapd package conflicts with dovecot-imapd (both provide
// imap-server), and the tests need both. So cyrus-common (master, the
// databases' tools) and sasl2-bin (saslpasswd2) are installed as packages,
// and only the `imapd` binary is taken from `apt-get download cyrus-imapd`
// of the same version, unpacked with `dpkg -x` into a cache folder kept
// across runs (CYRUS_CACHE), so the second run downloads nothing.
//
// Configuration: virtual domains (`virtdomains: userid`, mailboxes named
// "ana@corp.example"), the Unix hierarchy separator and the alternate
// namespace (both Cyrus 3's defaults), one administrator (`admins:`) whose
// password is in a private sasldb (auxprop), plaintext SASL PLAIN allowed on
// loopback. Cyrus lets an administrator log in for any user by naming the
// user as the SASL PLAIN authorization identity (RFC 4616), which is how the
// IMAP target acts for a mailbox. Each user's mailbox (`user/ana@corp.example`)
// is created over IMAP by the administrator: no cyradm.
//
// Unprivileged: Cyrus runs as its "cyrus user". Started as root, the harness
// runs master as the `cyrus` system user that cyrus-common creates (master
// would drop to it anyway); started as anyone else, it sets `cyrus_user` to
// that user and runs as them. The port is above 1024, so no privilege is
// needed to listen.
//
// Cyrus dies with the test process even if that one is killed: master runs in
// the foreground under a small shell that stops it when the harness's pipe
// closes (stdin EOF), as test/support/dovecot.ts does. master, on SIGTERM,
// stops its imapd children. Cyrus logs to syslog only; without a syslog
// daemon the log is lost, so a failure here is diagnosed over IMAP.
import { checkName, freePort, serverStopper, spawnWatched, waitForGreeting } from './server-process.js';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';

const execFileP = promisify(execFile);

export const CYRUS_BIN_DIR = '/usr/lib/cyrus/bin';
export const CYRUS_MASTER = `${CYRUS_BIN_DIR}/master`;
const SASLPASSWD2 = '/usr/sbin/saslpasswd2';
/** Where the unpacked cyrus-imapd of each version is kept between runs. */
export const CYRUS_CACHE = '/var/cache/xip-test/cyrus';
/** The system user Cyrus runs as when the harness is started as root (made by cyrus-common). */
export const CYRUS_RUN_USER = 'cyrus';
const SETUP_LOCK = join(tmpdir(), 'xip-cyrus-setup.lock');
/** The SASL realm and server name: the admin's sasldb entry is admin@SERVERNAME. */
const SERVERNAME = 'xip-cyrus-test';

export interface CyrusRunUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface CyrusInstall {
  readonly version: string;
  /** imapd unpacked from cyrus-imapd of the same version as cyrus-common. */
  readonly imapd: string;
  readonly runUser: CyrusRunUser;
}

export interface StartCyrusOptions {
  /** Mailboxes to create (`user/<name>`), fully qualified: "ana@corp.example". */
  readonly users: readonly string[];
  /** The administrator (default "xip-admin"); unqualified, so a global admin across domains. */
  readonly adminUser?: string;
  readonly adminPassword?: string;
  /** More lines for imapd.conf. */
  readonly extraConfig?: string;
}

export interface Cyrus {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  readonly configPath: string;
  readonly version: string;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly users: readonly string[];
  readonly runUser: CyrusRunUser;
  /** master's PID. */
  readonly pid: number;
  /** An IMAP session as the administrator acting for `user` (SASL PLAIN with authzid), or as the administrator itself without one. */
  openAs(user?: string): Promise<ImapFlow>;
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

let setupDone: Promise<CyrusInstall> | undefined;

/**
 * Installs cyrus-common and sasl2-bin when missing and unpacks imapd into the
 * cache when missing; once per process, serialised between processes with
 * flock(1). Fails loudly when it cannot.
 */
export function ensureCyrus(): Promise<CyrusInstall> {
  setupDone ??= setup();
  return setupDone;
}

async function run(file: string, args: readonly string[], what: string): Promise<string> {
  try {
    const { stdout } = await execFileP(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${what} failed: ${err.message}\n${err.stderr ?? ''}`, { cause: e });
  }
}

async function setup(): Promise<CyrusInstall> {
  const isRoot = process.getuid?.() === 0;
  if (!existsSync(CYRUS_MASTER) || !existsSync(SASLPASSWD2)) {
    if (!isRoot) throw new Error(`${CYRUS_MASTER} or ${SASLPASSWD2} is missing and this process is not root: apt-get install cyrus-common sasl2-bin`);
    const script = [
      'set -e',
      'export DEBIAN_FRONTEND=noninteractive',
      `if [ ! -x ${CYRUS_MASTER} ] || [ ! -x ${SASLPASSWD2} ]; then`,
      '  apt-get update -o DPkg::Lock::Timeout=300',
      '  apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 cyrus-common sasl2-bin',
      'fi',
    ].join('\n');
    await run('flock', [SETUP_LOCK, 'sh', '-c', script], 'installing cyrus-common and sasl2-bin');
  }
  const version = (await run('dpkg-query', ['-W', '-f=${Version}', 'cyrus-common'], 'dpkg-query cyrus-common')).trim();
  const home = join(CYRUS_CACHE, version.replace(/[^A-Za-z0-9.+~-]/g, '_'));
  const imapd = join(home, 'usr/lib/cyrus/bin/imapd');
  if (!existsSync(imapd)) {
    // Downloaded into a fresh folder, unpacked beside the cache, moved into place in one rename.
    // `apt-get download` needs the package lists: an update first when it finds nothing.
    const script = [
      'set -e',
      `[ -x "$1/usr/lib/cyrus/bin/imapd" ] && exit 0`,
      'mkdir -p "$(dirname "$1")"',
      'work=$(mktemp -d "$1.XXXXXX")',
      'trap \'rm -rf "$work"\' EXIT',
      'cd "$work"',
      'apt-get download "cyrus-imapd=$2" >/dev/null 2>&1 || { apt-get update -o DPkg::Lock::Timeout=300 >/dev/null && apt-get download "cyrus-imapd=$2"; }',
      'dpkg -x cyrus-imapd_*.deb root',
      'test -x root/usr/lib/cyrus/bin/imapd',
      'chmod 0755 "$work" root',
      'rm -rf "$1" && mv root "$1"',
    ].join('\n');
    await run('flock', [SETUP_LOCK, 'sh', '-c', script, 'sh', home, version], `unpacking cyrus-imapd ${version} into ${home}`);
    if (!existsSync(imapd)) throw new Error(`unpacking cyrus-imapd reported success but ${imapd} is missing`);
  }
  let runUser: CyrusRunUser;
  if (isRoot) {
    const uid = Number((await run('id', ['-u', CYRUS_RUN_USER], 'id')).trim());
    const gid = Number((await run('id', ['-g', CYRUS_RUN_USER], 'id')).trim());
    runUser = { name: CYRUS_RUN_USER, uid, gid };
  } else {
    runUser = { name: (await run('id', ['-un'], 'id')).trim(), uid: process.getuid!(), gid: process.getgid!() };
  }
  return { version, imapd, runUser };
}

function imapdConf(o: { dir: string; admin: string; runUser: string; isRoot: boolean; extra: string }): string {
  return [
    '# written by test/support/cyrus.ts',
    `configdirectory: ${o.dir}/conf`,
    `partition-default: ${o.dir}/spool`,
    'defaultpartition: default',
    `proc_path: ${o.dir}/proc`,
    `mboxname_lockpath: ${o.dir}/lock`,
    `lmtpsocket: ${o.dir}/socket/lmtp`,
    `idlesocket: ${o.dir}/socket/idle`,
    `notifysocket: ${o.dir}/socket/notify`,
    ...(o.isRoot ? [] : [`cyrus_user: ${o.runUser}`]),
    `servername: ${SERVERNAME}`,
    'virtdomains: userid',
    'defaultdomain: internal',
    `admins: ${o.admin}`,
    'allowplaintext: yes',
    'sasl_pwcheck_method: auxprop',
    'sasl_auxprop_plugin: sasldb',
    `sasl_sasldb_path: ${o.dir}/sasldb2`,
    'sasl_mech_list: PLAIN',
    // No pause after a refused login (3 s by default): tests of refusals would only wait through it.
    'failedloginpause: 0',
    'unixhierarchysep: yes',
    'altnamespace: yes',
    `syslog_prefix: xip-cyrus-test`,
    o.extra,
  ].join('\n') + '\n';
}

function cyrusConf(o: { dir: string; port: number; imapd: string }): string {
  return [
    '# written by test/support/cyrus.ts',
    'START {',
    `  recover cmd="${CYRUS_BIN_DIR}/ctl_cyrusdb -C ${o.dir}/imapd.conf -r"`,
    '}',
    'SERVICES {',
    `  imap cmd="${o.imapd} -C ${o.dir}/imapd.conf" listen="127.0.0.1:${o.port}" prefork=0 maxchild=50`,
    '}',
    'EVENTS {',
    '}',
  ].join('\n') + '\n';
}

async function session(port: number, auth: { user: string; pass: string; authzid?: string }): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: false,
    auth: { ...auth, loginMethod: 'AUTH=PLAIN' },
    logger: false,
    disableAutoIdle: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function startCyrus(options: StartCyrusOptions): Promise<Cyrus> {
  const install = await ensureCyrus();
  const { runUser } = install;
  const isRoot = process.getuid?.() === 0;
  const adminUser = options.adminUser ?? 'xip-admin';
  const adminPassword = options.adminPassword ?? randomBytes(12).toString('hex');
  checkName('adminUser', adminUser);
  checkName('adminPassword', adminPassword);
  if (adminUser.includes('@')) throw new TypeError('adminUser must be unqualified: a global administrator across the virtual domains');
  for (const u of options.users) {
    checkName('user', u);
    if (!/^[^@]+@[^@]+$/.test(u)) throw new TypeError(`user "${u}" must be fully qualified (virtdomains: userid)`);
  }

  const dir = await mkdtemp(join(tmpdir(), 'xip-cyrus-'));
  for (const sub of ['conf', 'spool', 'proc', 'lock', 'socket']) await mkdir(join(dir, sub));
  const configPath = join(dir, 'imapd.conf');
  await writeFile(configPath, imapdConf({ dir, admin: adminUser, runUser: runUser.name, isRoot, extra: options.extraConfig ?? '' }));
  // The admin's password, for the realm Cyrus's SASL looks it up under (the server name).
  await new Promise<void>((resolve, reject) => {
    const child = execFile(SASLPASSWD2, ['-p', '-c', '-f', join(dir, 'sasldb2'), '-u', SERVERNAME, adminUser], (e, _out, stderr) =>
      e ? reject(new Error(`saslpasswd2 failed: ${e.message}\n${stderr}`)) : resolve(),
    );
    child.stdin?.end(adminPassword);
  });
  if (isRoot) await execFileP('chown', ['-R', `${runUser.uid}:${runUser.gid}`, dir]);

  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  const pidPath = join(dir, 'master.pid');
  const logPath = join(dir, 'master.log');
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    await writeFile(join(dir, 'cyrus.conf'), cyrusConf({ dir, port, imapd: install.imapd }));
    const { child: started, stderr: stderrOf } = spawnWatched(CYRUS_MASTER, ['-C', configPath, '-M', join(dir, 'cyrus.conf'), '-p', pidPath, '-L', logPath], { cwd: dir, ...(isRoot ? { uid: runUser.uid, gid: runUser.gid } : {}) });
    try {
      await waitForGreeting('cyrus master', port, started, 20_000);
      child = started;
    } catch (e) {
      started.stdin?.end();
      started.kill('SIGKILL');
      const log = await readFile(logPath, 'utf8').catch(() => '');
      lastError = new Error(`${(e as Error).message}\n--- stderr\n${stderrOf()}\n--- ${logPath}\n${log}`);
      // master logs a lost bind race to syslog only: try another port, at most three times.
    }
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true });
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }
  const running = child;
  const pid = Number((await readFile(pidPath, 'utf8')).trim());
  const stop = serverStopper(running, pid, dir);

  const openAs = (user?: string): Promise<ImapFlow> => session(port, { user: adminUser, pass: adminPassword, ...(user === undefined ? {} : { authzid: user }) });

  try {
    // The users' mailboxes, created by the administrator as cyradm would ("cm user/ana@corp.example").
    const admin = await openAs();
    try {
      for (const user of options.users) await admin.mailboxCreate(`user/${user}`);
    } finally {
      await admin.logout();
    }
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    host: '127.0.0.1',
    port,
    dir,
    configPath,
    version: install.version,
    adminUser,
    adminPassword,
    users: [...options.users],
    runUser,
    pid,
    openAs,
    stop,
  };
}
