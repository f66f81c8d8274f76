// A fault-injecting TCP proxy: sits between a client and a real server on
// 127.0.0.1 and, on demand, kills connections at a chosen moment — for faults
// a real server cannot be made to show on demand (style.md: in-process fakes
// only for those, and named as such). Everything else passes through as is.
import { createConnection, createServer, type Socket } from 'node:net';

export interface FaultProxy {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections killed by a fault so far. */
  readonly cuts: number;
  /**
   * Once: when the server's bytes to the client match `pattern`, kill both
   * sides without passing those bytes on — the server did the work, the
   * client never hears of it. Resolves when the cut is made.
   */
  cutWhenServerSays(pattern: RegExp): Promise<void>;
  /** Once: kill the connection after the client has sent `bytes` more octets (mid-command). Resolves when the cut is made. */
  cutAfterClientBytes(bytes: number): Promise<void>;
  /**
   * Once: when the client's bytes match `pattern` (the end of a command),
   * cut the client off at once but hand those last bytes to the server
   * `delayMs` later, on the connection the server still has: the server
   * receives the command whole and carries it out after its sender went
   * away — a store that lands late. Resolves once the server has answered it.
   */
  storeLateWhenClientSends(pattern: RegExp, delayMs: number): Promise<void>;
  /**
   * Once: when the client's bytes match `pattern`, hold them, run `action`
   * (another session acting between two commands of this one), then pass
   * them on. Resolves when they are passed on; rejects if `action` does.
   */
  actBeforeClientSends(pattern: RegExp, action: () => Promise<void>): Promise<void>;
  /** Close the next `count` connections as soon as they are accepted (the server looks down). */
  refuseNext(count: number): void;
  /** Kill every open connection now. */
  killAll(): void;
  close(): Promise<void>;
}

interface Fault<T> {
  readonly arg: T;
  readonly done: () => void;
}

export async function startFaultProxy(target: { readonly host: string; readonly port: number }): Promise<FaultProxy> {
  const open = new Set<Socket>();
  let connections = 0;
  let cuts = 0;
  let refuse = 0;
  let serverFault: Fault<RegExp> | undefined;
  let clientFault: (Fault<number> & { seen: number }) | undefined;
  let lateFault: Fault<{ pattern: RegExp; delayMs: number }> | undefined;
  let actFault: (Fault<{ pattern: RegExp; action: () => Promise<void> }> & { fail: (e: unknown) => void }) | undefined;

  const server = createServer((client) => {
    connections++;
    if (refuse > 0) {
      refuse--;
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port });
    open.add(client);
    open.add(upstream);
    let window = '';
    let clientWindow = '';
    let actWindow = '';
    /** The client was cut off while the server still has bytes of it to receive. */
    let detached = false;
    const kill = (): void => {
      cuts++;
      client.destroy();
      upstream.destroy();
    };
    const forget = (): void => {
      open.delete(client);
      open.delete(upstream);
    };
    client.on('close', () => {
      if (!detached) upstream.destroy();
      forget();
    });
    upstream.on('close', () => {
      client.destroy();
      forget();
    });
    client.on('error', () => {
      if (!detached) upstream.destroy();
    });
    upstream.on('error', () => client.destroy());

    upstream.on('data', (chunk: Buffer) => {
      const fault = serverFault;
      if (fault) {
        const text = window + chunk.toString('latin1');
        if (fault.arg.test(text)) {
          serverFault = undefined;
          kill();
          fault.done();
          return;
        }
        window = text.slice(-512); // a response split over two reads still matches
      }
      if (detached) {
        // The server answered the late command: now the connection goes too.
        upstream.destroy();
        return;
      }
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());

    client.on('data', (chunk: Buffer) => {
      const act = actFault;
      if (act) {
        const text = actWindow + chunk.toString('latin1');
        if (act.arg.pattern.test(text)) {
          actFault = undefined;
          client.pause();
          act.arg.action().then(
            () => {
              upstream.write(chunk);
              client.resume();
              act.done();
            },
            (e: unknown) => {
              kill();
              act.fail(e);
            },
          );
          return;
        }
        actWindow = text.slice(-512);
      }
      const late = lateFault;
      if (late) {
        const text = clientWindow + chunk.toString('latin1');
        if (late.arg.pattern.test(text)) {
          lateFault = undefined;
          detached = true;
          cuts++;
          client.destroy();
          setTimeout(() => upstream.write(chunk), late.arg.delayMs);
          upstream.once('close', late.done);
          return;
        }
        clientWindow = text.slice(-512);
      }
      const fault = clientFault;
      if (fault) {
        const room = fault.arg - fault.seen;
        if (chunk.length >= room) {
          clientFault = undefined;
          upstream.write(chunk.subarray(0, room), () => {
            kill();
            fault.done();
          });
          return;
        }
        fault.seen += chunk.length;
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('fault proxy: no address');

  return {
    host: '127.0.0.1',
    port: address.port,
    get connections() {
      return connections;
    },
    get cuts() {
      return cuts;
    },
    cutWhenServerSays(pattern) {
      return new Promise((done) => (serverFault = { arg: pattern, done }));
    },
    cutAfterClientBytes(bytes) {
      return new Promise((done) => (clientFault = { arg: bytes, seen: 0, done }));
    },
    storeLateWhenClientSends(pattern, delayMs) {
      return new Promise((done) => (lateFault = { arg: { pattern, delayMs }, done }));
    },
    actBeforeClientSends(pattern, action) {
      return new Promise((done, fail) => (actFault = { arg: { pattern, action }, done, fail }));
    },
    refuseNext(count) {
      refuse = count;
    },
    killAll() {
      for (const s of open) s.destroy();
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
