// A throwaway OpenSSH server for the SFTP source's tests: Debian's sshd on
// 127.0.0.1 on a free port, with a configuration, host key, authorized key
// and PID file of its own in a temporary directory (nothing of /etc/ssh is
// read), serving SFTP only (internal-sftp) to one system user, xip-sftp.
//
// Not unprivileged, unlike Dovecot (dovecot.ts): sshd checks passwords
// against /etc/shadow and switches to the logged-in user for the session,
// and both need root. The harness therefore requires root (the test
// containers run as root) and says so when it is not.
//
// The user xip-sftp is made once per machine and its password (random, kept
// in a root-only file under the temporary directory) is set with chpasswd
// once per process, under the same flock(1) lock as the Dovecot set-up so
// that parallel test files neither race apt-get nor change the password
// under each other's feet.
//
// sshd forks a process per connection (and that one forks the session
// process running as the user); killing the listener leaves those running,
// with the client's socket open. killSessions() and stop() therefore kill
// the whole tree under the listener by PID (walked through /proc), which is
// also how a test cuts a transfer off in the middle.
import { descendants, freePort, serverStopper, spawnWatched, waitForGreeting } from './server-process.js';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const SSHD_BIN = '/usr/sbin/sshd';
/** The system user the tests log in as (password or key). */
export const SFTP_USER = 'xip-sftp';
// The lock dovecot.ts takes around apt-get: one apt-get at a time on the machine.
const SETUP_LOCK = join(tmpdir(), 'xip-dovecot-setup.lock');
const PASSWORD_FILE = join(tmpdir(), 'xip-sftp-password');

export interface Sshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** 'SHA256:…' of the throwaway host key, as `ssh-keygen -lf` prints it. */
  readonly hostKeyFingerprint: string;
  readonly user: string;
  readonly password: string;
  /** The OpenSSH-format private key whose public half is the user's only authorized key. */
  readonly privateKeyPem: string;
  /** Its file (mode 0600), for tests that derive an encrypted copy with ssh-keygen -p. */
  readonly privateKeyPath: string;
  /** A folder (world-readable, owned by root) the user can read: the tests' remote files. */
  readonly root: string;
  /** The temporary directory holding everything above. */
  readonly dir: string;
  /** The listening sshd. */
  readonly pid: number;
  /** What sshd logged so far (-e: its log goes to stderr; LogLevel VERBOSE). */
  log(): string;
  /** Kills every connection's processes (not the listener), by PID; resolves once they are gone. Returns how many were killed. */
  killSessions(): Promise<number>;
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

let setupDone: Promise<string> | undefined;

/**
 * Installs openssh-server when missing, makes the user xip-sftp and sets its
 * password; once per process. Resolves to the password.
 */
export function ensureSshd(): Promise<string> {
  setupDone ??= setup();
  return setupDone;
}

async function setup(): Promise<string> {
  if (process.getuid?.() !== 0) {
    throw new Error('the sshd test harness needs root: sshd reads /etc/shadow for password logins and switches to the logged-in user');
  }
  const script = [
    'set -e',
    `if [ ! -x ${SSHD_BIN} ]; then`,
    '  export DEBIAN_FRONTEND=noninteractive',
    '  apt-get update -o DPkg::Lock::Timeout=300',
    '  apt-get install -y -o DPkg::Lock::Timeout=300 openssh-server',
    'fi',
    `id -u ${SFTP_USER} >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${SFTP_USER}`,
    // The first process to get here chooses the password; the others reuse it.
    `if [ ! -s ${PASSWORD_FILE} ]; then (umask 077; printf '%s' "$CANDIDATE" > ${PASSWORD_FILE}); fi`,
    `printf '${SFTP_USER}:%s\\n' "$(cat ${PASSWORD_FILE})" | chpasswd`,
    // sshd's privilege-separation directory; the package's service would make it.
    'mkdir -p /run/sshd && chmod 0755 /run/sshd',
  ].join('\n');
  try {
    await execFileP('flock', [SETUP_LOCK, 'sh', '-c', script], {
      env: { ...process.env, CANDIDATE: randomBytes(18).toString('base64url') },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 15 * 60_000,
    });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`setting up openssh-server failed: ${err.message}\n${err.stderr ?? ''}`, { cause: e });
  }
  if (!existsSync(SSHD_BIN)) throw new Error(`apt-get reported success but ${SSHD_BIN} is still missing`);
  return (await readFile(PASSWORD_FILE, 'utf8')).trim();
}

function configText(dir: string, port: number, root: string): string {
  return [
    `ListenAddress 127.0.0.1`,
    `Port ${port}`,
    `PidFile ${dir}/sshd.pid`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    // The temporary directory is root's, not the user's: the ownership checks would refuse it.
    `StrictModes no`,
    `UsePAM no`,
    `PasswordAuthentication yes`,
    `KbdInteractiveAuthentication no`,
    `PubkeyAuthentication yes`,
    `PermitRootLogin no`,
    `AllowUsers ${SFTP_USER}`,
    `DisableForwarding yes`,
    `PermitTTY no`,
    `Subsystem sftp internal-sftp`,
    `ForceCommand internal-sftp -d ${root}`,
    // Tests open many connections at once and fail logins on purpose.
    `MaxStartups 100`,
    `MaxAuthTries 10`,
    `LogLevel VERBOSE`,
    '',
  ].join('\n');
}


async function killTree(listener: number): Promise<number> {
  const killed = new Set<number>();
  // Repeat: a connection accepted meanwhile forks new processes.
  for (let round = 0; round < 100; round++) {
    const pids = await descendants(listener);
    if (pids.length === 0) return killed.size;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`processes under sshd ${listener} kept coming back`);
}

async function makeKey(path: string, comment: string): Promise<void> {
  await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

async function startListener(dir: string, root: string, configPath: string, hostKey: string): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    await writeFile(configPath, configText(dir, port, root), { mode: 0o600 });
    const { child, stderr } = spawnWatched(SSHD_BIN, ['-D', '-e', '-f', configPath, '-h', hostKey], { cwd: dir });
    try {
      await waitForGreeting('sshd', port, child, 20_000, 'SSH-2.0-');
      return { child, port, stderr };
    } catch (e) {
      child.stdin?.end();
      child.kill('SIGKILL');
      lastError = new Error(`${(e as Error).message}\n--- stderr\n${stderr()}`);
      if (!/bind|in use/i.test(stderr())) break; // only a lost port race is worth another try
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

export async function startSshd(): Promise<Sshd> {
  const password = await ensureSshd();
  const dir = await mkdtemp(join(tmpdir(), 'xip-sshd-'));
  // The user's session must reach the files, and sshd reads the authorized
  // keys with the user's identity: the folder is opened to everyone (it
  // holds no secret the user may not read but the host key, mode 0600).
  await chmod(dir, 0o755);
  const root = join(dir, 'files');
  await mkdir(root, { mode: 0o755 });
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  const configPath = join(dir, 'sshd_config');
  let child: ChildProcess;
  let port: number;
  let stderr: () => string;
  try {
    await makeKey(hostKey, 'xip-test-host');
    await makeKey(clientKey, 'xip-test-client');
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o644 });
    await chmod(join(dir, 'authorized_keys'), 0o644);
    ({ child, port, stderr } = await startListener(dir, root, configPath, hostKey));
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const pid = Number((await readFile(join(dir, 'sshd.pid'), 'utf8')).trim());
  const stopServer = serverStopper(child, pid, dir);
  // "256 SHA256:… comment (ED25519)"
  const fingerprint = (await execFileP('ssh-keygen', ['-lf', `${hostKey}.pub`])).stdout.split(' ')[1] ?? '';
  if (!fingerprint.startsWith('SHA256:')) throw new Error(`ssh-keygen -lf printed no SHA256 fingerprint: ${fingerprint}`);

  return {
    host: '127.0.0.1',
    port,
    hostKeyFingerprint: fingerprint,
    user: SFTP_USER,
    password,
    privateKeyPem: await readFile(clientKey, 'utf8'),
    privateKeyPath: clientKey,
    root,
    dir,
    pid,
    log: stderr,
    killSessions: () => killTree(pid),
    async stop(options) {
      await killTree(pid).catch(() => undefined);
      await stopServer(options);
    },
  };
}
