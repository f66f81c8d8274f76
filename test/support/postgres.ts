// A throwaway PostgreSQL for tests and benches: Debian's server binaries
// (/usr/lib/postgresql/<version>/bin), a cluster made by initdb in a
// temporary folder, the postmaster started directly (no pg_ctl, so that the
// PID is the one we spawned) on 127.0.0.1 on a free port, and stopped by PID.
//
// Unprivileged: PostgreSQL refuses to run as root. Started as root, the
// harness creates the system user `xip-postgres` once and runs initdb and the
// server as that user; started as any other user, they run as that user.
// A dedicated user rather than `nobody` or Debian's `postgres`: files owned
// by `nobody` can be changed by every unrelated daemon that runs as nobody
// (Debian's policy is that nobody owns no files), and `postgres` owns the
// machine's own clusters (/var/lib/postgresql), which a test server has no
// business reaching. `xip-postgres` follows `xip-dovecot` and `xip-sftp`.
//
// Authentication: the superuser `xip` has a random password, checked with
// SCRAM-SHA-256 over TCP — the path the application takes with its
// postgres://xip:…@127.0.0.1:PORT/db URL, so a test proves the password
// round trip. The unix socket (in the data folder, mode 0700, reachable by
// the run user and root only) trusts: nothing here uses it but a person
// debugging with `psql -h <dataDir>`.
//
// The server dies with the test process even if that one is killed: it runs
// under a small shell that reads our pipe and sends SIGINT (fast shutdown:
// open sessions are cut, unlike SIGTERM's smart shutdown that would wait for
// worker processes a test may have left behind) when the pipe closes.
// server-process.ts's spawnWatched sends SIGTERM, hence a variant here.
import { descendants, freePort, type RunUser } from './server-process.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { appendFile, chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

const PG_ROOT = '/usr/lib/postgresql';
/** The system user the server runs as when the harness is started as root. */
export const POSTGRES_RUN_USER = 'xip-postgres';
/** The superuser initdb makes (-U); its password is random per server. */
export const POSTGRES_SUPERUSER = 'xip';
/** The database made at start, the one `url` names. */
export const POSTGRES_DEFAULT_DATABASE = 'xip';
// The lock dovecot.ts and sshd.ts take around apt-get: one apt-get at a time on the machine.
const SETUP_LOCK = join(tmpdir(), 'xip-dovecot-setup.lock');

/**
 * Settings for a test server, appended to postgresql.conf. Durability is off
 * (a crash loses the folder anyway); max_connections leaves room for several
 * workers with their pools plus the test's own psql.
 */
export const POSTGRES_TEST_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
  shared_buffers: '64MB',
  huge_pages: 'off',
  // fewer checkpoints during a bench's bulk writes
  max_wal_size: '1GB',
  // who did what, for the log tail in a failure: time, PID, application@database
  log_line_prefix: "'%m [%p] %q%a@%d '",
  log_timezone: "'UTC'",
  timezone: "'UTC'",
};

export interface StartPostgresOptions {
  /** More settings for postgresql.conf (values as written there: quote strings), over POSTGRES_TEST_SETTINGS. */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface PsqlResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface Postgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** postgres://xip:<password>@127.0.0.1:<port>/xip — the superuser on the database made at start. */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  /** The cluster (PGDATA), which also holds the unix socket and postgres.log; removed by stop(). */
  readonly dataDir: string;
  readonly logPath: string;
  /** The postmaster. */
  readonly pid: number;
  /** The PostgreSQL major version of the binaries used (e.g. '15'). */
  readonly version: string;
  readonly runUser: RunUser;
  /** The URL of another database on this server, same user. */
  urlFor(database: string): string;
  /** Makes a database (name: lower-case letters, digits, _); resolves to its URL. */
  createDatabase(name: string): Promise<string>;
  /**
   * Runs SQL through psql over TCP as the superuser (ON_ERROR_STOP, unaligned,
   * tuples only: one row a line, columns separated by '|'); rejects on a
   * non-zero exit. `vars` become psql variables (:'name' in the SQL quotes one
   * as a literal, :"name" as an identifier).
   */
  psql(sql: string, options?: { database?: string; vars?: Readonly<Record<string, string>> }): Promise<PsqlResult>;
  /**
   * Terminates client sessions (pg_terminate_backend), all of them or those
   * whose application_name is `applicationName`, never the one asking.
   * Resolves to the PIDs of the backends terminated.
   */
  terminateBackends(applicationName?: string): Promise<number[]>;
  log(): Promise<string>;
  /** SIGINT (fast shutdown) to the postmaster, SIGKILL to it and its children after 10 s; then removes dataDir unless asked to keep it. */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

export interface PostgresInstall {
  readonly version: string;
  readonly bin: string;
  readonly runUser: RunUser;
}

/** The newest /usr/lib/postgresql/<version> whose bin/ has initdb and postgres, or undefined. */
export function findPostgresBin(): { version: string; bin: string } | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter((v) => ['initdb', 'postgres', 'psql', 'pg_isready'].every((b) => existsSync(join(PG_ROOT, v, 'bin', b))))
    .sort((a, b) => Number(b) - Number(a));
  const version = versions[0];
  return version === undefined ? undefined : { version, bin: join(PG_ROOT, version, 'bin') };
}

let setupDone: Promise<PostgresInstall> | undefined;

/**
 * Installs Debian's postgresql when its server binaries are missing and makes
 * the run user; once per process, serialised between processes with flock(1)
 * so that parallel test files do not race apt-get. Fails loudly when it cannot.
 */
export function ensurePostgres(): Promise<PostgresInstall> {
  setupDone ??= setup();
  return setupDone;
}

async function setup(): Promise<PostgresInstall> {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    const found = findPostgresBin();
    if (!found) throw new Error(`no ${PG_ROOT}/<version>/bin/initdb and this process is not root: install Debian's postgresql (apt-get install postgresql)`);
    const name = (await execFileP('id', ['-un'])).stdout.trim();
    return { ...found, runUser: { name, uid: process.getuid!(), gid: process.getgid!() } };
  }
  if (!findPostgresBin() || !(await userExists(POSTGRES_RUN_USER))) {
    const script = [
      'set -e',
      `if ! ls ${PG_ROOT}/*/bin/initdb >/dev/null 2>&1; then`,
      '  export DEBIAN_FRONTEND=noninteractive',
      '  apt-get update -o DPkg::Lock::Timeout=300',
      // Debian's package also makes and starts a cluster "main" on 5432; this harness does not use it.
      '  apt-get install -y -o DPkg::Lock::Timeout=300 postgresql',
      'fi',
      `id -u ${POSTGRES_RUN_USER} >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${POSTGRES_RUN_USER}`,
    ].join('\n');
    try {
      await execFileP('flock', [SETUP_LOCK, 'sh', '-c', script], { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(`installing postgresql failed: ${err.message}\n${err.stderr ?? ''}`, { cause: e });
    }
  }
  const found = findPostgresBin();
  if (!found) throw new Error(`apt-get reported success but no ${PG_ROOT}/<version>/bin/initdb is there`);
  const uid = Number((await execFileP('id', ['-u', POSTGRES_RUN_USER])).stdout.trim());
  const gid = Number((await execFileP('id', ['-g', POSTGRES_RUN_USER])).stdout.trim());
  return { ...found, runUser: { name: POSTGRES_RUN_USER, uid, gid } };
}

async function userExists(name: string): Promise<boolean> {
  try {
    await execFileP('id', ['-u', name]);
    return true;
  } catch {
    return false;
  }
}

/** The environment without PG* variables, so that a developer's PGDATA, PGPORT or PGPASSWORD cannot steer the harness. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command to its end with `input` on stdin; rejects with its output on a non-zero exit. */
function run(command: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs?: number }): Promise<PsqlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: tmpdir(),
      env: options.env ?? cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.uid !== undefined && options.gid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} exited (${code ?? signal})\n${stderr}${stdout}`));
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Whether the process runs; a zombie does not (its parent, the watchdog shell or a container's init, may be slow to reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}


/**
 * The postmaster in the foreground under a shell that sends it SIGINT when
 * our pipe (fd 3, a copy of stdin) reaches EOF, and that ends when the
 * postmaster does, with its status; the postmaster's stderr (its log,
 * log_destination = stderr) is appended to logPath.
 */
function spawnPostmaster(bin: string, args: readonly string[], logPath: string, runUser: RunUser, asRunUser: boolean): ChildProcess {
  const script = [
    'exec 3<&0',
    'log=$1; shift',
    '"$@" </dev/null 3<&- >>"$log" 2>&1 & d=$!',
    "trap 'kill -INT $d 2>/dev/null' TERM",
    '{ cat <&3 >/dev/null; kill -INT $d 2>/dev/null; } & w=$!',
    'exec 3<&-',
    // wait returns early (>128) when the trap runs: wait again while it lives.
    'wait $d; s=$?',
    'while kill -0 $d 2>/dev/null; do wait $d; s=$?; done',
    'kill $w 2>/dev/null',
    'exit $s',
  ].join('\n');
  return spawn('/bin/sh', ['-c', script, 'sh', logPath, join(bin, 'postgres'), ...args], {
    cwd: tmpdir(),
    env: cleanEnv(),
    stdio: ['pipe', 'ignore', 'ignore'],
    ...(asRunUser ? { uid: runUser.uid, gid: runUser.gid } : {}),
  });
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export async function startPostgres(options: StartPostgresOptions = {}): Promise<Postgres> {
  const { version, bin, runUser } = await ensurePostgres();
  const isRoot = process.getuid?.() === 0;
  const asRunUser = isRoot ? { uid: runUser.uid, gid: runUser.gid } : {};
  const password = randomBytes(18).toString('hex');

  // One folder: PGDATA itself, which initdb accepts when it exists and is empty.
  const dataDir = await mkdtemp(join(tmpdir(), 'xip-postgres-'));
  const logPath = join(dataDir, 'postgres.log');
  try {
    if (isRoot) await chown(dataDir, runUser.uid, runUser.gid);
    await chmod(dataDir, 0o700);
    // --pwfile from stdin: the password never appears on a command line or on
    // disk. Through cat: Node's stdin pipe is a socket, which /dev/stdin cannot open.
    await run(
      '/bin/sh',
      ['-c', 'cat | "$@"', 'sh', join(bin, 'initdb'), '-D', dataDir, '-U', POSTGRES_SUPERUSER, '--pwfile=/dev/stdin', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions'],
      { input: `${password}\n`, ...asRunUser, timeoutMs: 120_000 },
    );
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(e as Error).message}`, { cause: e });
  }
  const settings: Record<string, string> = {
    ...POSTGRES_TEST_SETTINGS,
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${dataDir}'`,
    log_destination: "'stderr'",
    logging_collector: 'off',
    ...options.settings,
  };
  await appendFile(join(dataDir, 'postgresql.conf'), `\n# written by test/support/postgres.ts\n${Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`);

  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: Error | undefined;
  // The port is chosen before the server binds it: another process may take
  // it meanwhile. The postmaster then exits with "could not bind"; try again.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const logStart = (await readFile(logPath, 'utf8').catch(() => '')).length;
    const started = spawnPostmaster(bin, ['-D', dataDir, '-p', String(port)], logPath, runUser, isRoot);
    try {
      await waitUntilReady(bin, dataDir, port, started, 30_000);
      child = started;
    } catch (e) {
      started.stdin?.end();
      started.kill('SIGKILL');
      const log = (await readFile(logPath, 'utf8').catch(() => '')).slice(logStart);
      lastError = new Error(`${(e as Error).message}\n--- ${logPath} (tail)\n${tail(log)}`);
      if (!/could not bind/i.test(log)) break; // only a lost port race is worth another try
    }
  }
  if (!child) {
    // a postmaster that did not come up may still hold the folder
    const pid = await readPostmasterPid(dataDir);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    throw lastError ?? new Error('postgres did not start');
  }
  const running = child;
  const pid = await readPostmasterPid(dataDir);
  if (pid === undefined) throw new Error(`postgres is up but ${dataDir}/postmaster.pid has no PID`);

  // Last resort when the test process exits without stop(): SIGQUIT is the
  // immediate shutdown, in which the postmaster still kills its children and
  // removes its shared memory (SIGKILL would leak /dev/shm segments).
  const onExit = (): void => {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  const exited = new Promise<void>((resolve) => {
    if (running.exitCode !== null || running.signalCode !== null) resolve();
    else running.once('exit', () => resolve());
  });

  const urlFor = (database: string): string => `postgres://${POSTGRES_SUPERUSER}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  const psql: Postgres['psql'] = (sql, o = {}) => {
    const vars = Object.entries(o.vars ?? {}).flatMap(([k, v]) => ['-v', `${k}=${v}`]);
    // SQL on stdin, not -c: psql interpolates :'var' only in what it reads as a script.
    return run(
      join(bin, 'psql'),
      ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...vars, '-h', '127.0.0.1', '-p', String(port), '-U', POSTGRES_SUPERUSER, '-d', o.database ?? POSTGRES_DEFAULT_DATABASE, '-f', '-'],
      { input: sql, env: cleanEnv({ PGPASSWORD: password, PGAPPNAME: 'xip-test-harness', PGCONNECT_TIMEOUT: '10' }), timeoutMs: 60_000 },
    );
  };

  const createDatabase = async (name: string): Promise<string> => {
    if (!IDENTIFIER.test(name)) throw new TypeError(`database name "${name}" must be lower-case letters, digits and _, at most 63`);
    await psql(`CREATE DATABASE ${name}`, { database: 'postgres' });
    return urlFor(name);
  };

  let stopped = false;
  const stop: Postgres['stop'] = async (o) => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (alive(pid)) {
      // Stuck: kill the backends first, as they would outlive a killed postmaster for a while.
      for (const p of await descendants(pid)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      process.kill(pid, 'SIGKILL');
    }
    running.stdin?.end();
    await exited;
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    process.off('exit', onExit);
    if (!o?.keepFiles) await rm(dataDir, { recursive: true, force: true });
  };

  try {
    await createDatabase(POSTGRES_DEFAULT_DATABASE);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    host: '127.0.0.1',
    port,
    url: urlFor(POSTGRES_DEFAULT_DATABASE),
    user: POSTGRES_SUPERUSER,
    password,
    dataDir,
    logPath,
    pid,
    version,
    runUser,
    urlFor,
    createDatabase,
    psql,
    async terminateBackends(applicationName) {
      const { stdout } = await psql(
        [
          // In the select list, not the WHERE clause: there the planner could call it before the other conditions.
          'SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity',
          "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
          applicationName === undefined ? '' : "AND application_name = :'app'",
        ].join(' '),
        { database: 'postgres', ...(applicationName === undefined ? {} : { vars: { app: applicationName } }) },
      );
      // "pid|t" per backend; f: it was gone already
      return stdout.split('\n').filter((l) => l.endsWith('|t')).map((l) => Number(l.split('|')[0]));
    },
    log: () => readFile(logPath, 'utf8'),
    stop,
  };
}

async function readPostmasterPid(dataDir: string): Promise<number | undefined> {
  // postmaster.pid: line 1 the PID, … line 8 the status ("ready" once it accepts connections).
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Waits until our postmaster says it is ready (postmaster.pid: line 4 our
 * port, line 8 "ready") and pg_isready gets an answer on 127.0.0.1:port —
 * the pid file first, so that another server that won the port race cannot
 * pass for ours. Rejects when the postmaster exits or on timeout.
 */
async function waitUntilReady(bin: string, dataDir: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited (${child.exitCode ?? child.signalCode})`);
    const lines = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
    if (lines[3]?.trim() === String(port) && lines[7]?.trim() === 'ready') {
      try {
        // exit 0: accepting connections; 1: rejecting (starting up); 2: no response
        await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '2'], { timeoutMs: 5_000 });
        return;
      } catch {
        // not yet
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`postgres did not accept connections on 127.0.0.1:${port} within ${timeoutMs} ms`);
}
