// What the test servers (dovecot.ts, cyrus.ts) share: a free loopback port,
// a foreground server under a watchdog shell, the wait for its greeting, and
// the check of the names written into their configuration files.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, readdir, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';

/** The unprivileged user a test server runs as. */
export interface RunUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts `command args` in the foreground under a shell that stops it when
 * our pipe (fd 3, a copy of its stdin) reaches EOF — so the server dies with
 * the test process, however that ends — and that itself ends when the
 * server does. An asynchronous list's stdin is /dev/null in a
 * non-interactive shell, hence the copy.
 */
export function spawnWatched(command: string, args: readonly string[], options: { cwd: string; uid?: number; gid?: number }): { child: ChildProcess; stderr: () => string } {
  const script = [
    'exec 3<&0',
    '"$@" </dev/null 3<&- & d=$!',
    "trap 'kill $d 2>/dev/null' TERM",
    '{ cat <&3 >/dev/null; kill $d 2>/dev/null; } & w=$!',
    'exec 3<&-',
    'while kill -0 $d 2>/dev/null; do wait $d; done',
    'kill $w 2>/dev/null',
  ].join('\n');
  const child = spawn('/bin/sh', ['-c', script, 'sh', command, ...args], {
    cwd: options.cwd,
    stdio: ['pipe', 'ignore', 'pipe'],
    ...(options.uid !== undefined && options.gid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, stderr: () => stderr };
}

/** Resolves once the server on the port greets with a line starting `greeting` (IMAP: "* OK", SSH: "SSH-2.0-"); rejects when it exits or on timeout. */
export async function waitForGreeting(name: string, port: number, child: ChildProcess, timeoutMs: number, greeting = '* OK'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode})`);
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let text = '';
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(2000, () => done(false));
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (text.includes('\n')) done(text.startsWith(greeting));
      });
      socket.on('error', () => done(false));
      socket.on('end', () => done(false));
    });
    if (greeted) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not greet on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** Names written into passwd-style files (':'-separated) and configurations: kept plain. */
export function checkName(kind: string, value: string): void {
  if (!/^[A-Za-z0-9._@+-]+$/.test(value)) throw new TypeError(`${kind} "${value}" must be made of letters, digits and ._@+-`);
}

/**
 * Stopping a started server by PID: `stop()` closes the watchdog's pipe (it
 * stops the server), kills the shell if that takes over 10 s, waits for the
 * master process itself to be gone, then removes `dir` unless asked to keep
 * it. If the test process exits without stop(), the master is killed by PID.
 */
export function serverStopper(running: ChildProcess, pid: number, dir: string): (options?: { keepFiles?: boolean }) => Promise<void> {
  const onExit = (): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  const exited = new Promise<void>((resolve) => {
    if (running.exitCode !== null || running.signalCode !== null) resolve();
    else running.once('exit', () => resolve());
  });
  let stopped = false;
  return async (options) => {
    if (stopped) return;
    stopped = true;
    running.stdin?.end();
    const timer = setTimeout(() => {
      onExit();
      running.kill('SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
    // The shell waits for the master, but be sure before removing its files.
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    process.off('exit', onExit);
    if (!options?.keepFiles) await rm(dir, { recursive: true, force: true });
  };
}

/** Every process below `root` (children, grandchildren…), from the parent PIDs in /proc. */
export async function descendants(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}
