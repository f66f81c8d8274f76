// The Azure Blob source against the real Azurite emulator (test/support/azurite.ts):
// what it lists and fetches with an account key and with a SAS, and the
// error codes of refused credentials, a missing container, a dead endpoint,
// a silent server and a transfer cut in the middle. No message may ever
// carry the account key or the SAS.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { XipError, type ErrorCode } from '../errors.js';
import type { ConnectorSource, SourceFile } from '../ports/container-source.js';
import { freePort } from '../../test/support/server-process.js';
import { startRealAzurite, type RealAzurite } from '../../test/support/azurite.js';
import { azureBlobSource, parseAzureUrl, type AzureCredential } from './azure-blob.js';
import { listError, readError } from './azure-errors.js';

// Every secret a test hands to a source; no error message may contain one.
const secrets = new Set<string>();

function remember(credential: AzureCredential): AzureCredential {
  if (credential.kind === 'key') secrets.add(credential.accountKey);
  else {
    secrets.add(credential.sas.replace(/^\?/, ''));
    secrets.add(new URLSearchParams(credential.sas.replace(/^\?/, '')).get('sig') ?? '');
  }
  return credential;
}

function assertNoSecret(text: string): void {
  for (const secret of secrets) if (secret !== '') assert.ok(!text.includes(secret), `a secret leaked into: ${text}`);
  assert.ok(!/sig=(?!\[secret\])/i.test(text), `a SAS signature leaked into: ${text}`);
}

/** Awaits the rejection and checks its exact code and that neither message nor explanation holds a secret. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<XipError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof XipError, `not an XipError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assertNoSecret(`${e.message} ${e.explanation} ${e.stack ?? ''}`);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

function configInvalid(url: string): void {
  assert.throws(() => parseAzureUrl(url), (e: unknown) => e instanceof XipError && e.code === 'CONFIG_INVALID' && e.message.length > 20, url);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('parseAzureUrl', () => {
  it("reads Azure's URL: the account from the host, the prefix as 'a/b/'", () => {
    assert.deepEqual(parseAzureUrl('https://acme01.blob.core.windows.net/inbox'), { serviceUrl: 'https://acme01.blob.core.windows.net', accountName: 'acme01', container: 'inbox', prefix: '' });
    assert.deepEqual(parseAzureUrl('https://acme01.blob.core.windows.net/in-box-2/'), { serviceUrl: 'https://acme01.blob.core.windows.net', accountName: 'acme01', container: 'in-box-2', prefix: '' });
    assert.deepEqual(parseAzureUrl('https://acme01.blob.core.windows.net/inbox/a/b'), { serviceUrl: 'https://acme01.blob.core.windows.net', accountName: 'acme01', container: 'inbox', prefix: 'a/b/' });
    assert.equal(parseAzureUrl('https://acme01.blob.core.windows.net/inbox/a/b/').prefix, 'a/b/');
    assert.equal(parseAzureUrl('https://acme01.blob.core.windows.net/inbox/daily%20drop/').prefix, 'daily drop/');
  });

  it("reads Azurite's path-style URL on 127.0.0.1 and localhost: the account from the first segment", () => {
    assert.deepEqual(parseAzureUrl('http://127.0.0.1:10000/devstoreaccount1/inbox'), { serviceUrl: 'http://127.0.0.1:10000/devstoreaccount1', accountName: 'devstoreaccount1', container: 'inbox', prefix: '' });
    assert.deepEqual(parseAzureUrl('http://localhost:10000/devstoreaccount1/inbox/x/'), { serviceUrl: 'http://localhost:10000/devstoreaccount1', accountName: 'devstoreaccount1', container: 'inbox', prefix: 'x/' });
  });

  it('rejects other hosts, query strings, credentials and bad names with CONFIG_INVALID', () => {
    configInvalid('not a url');
    configInvalid('https://example.com/inbox');
    configInvalid('https://acme01.blob.core.windows.net.example.com/inbox');
    configInvalid('http://acme01.blob.core.windows.net/inbox'); // a SAS would travel in clear
    configInvalid('https://acme01.blob.core.windows.net/inbox?sv=2024-01-01&sig=abc');
    configInvalid('https://user:pw@acme01.blob.core.windows.net/inbox');
    configInvalid('https://acme01.blob.core.windows.net/inbox#x');
    configInvalid('https://acme01.blob.core.windows.net/');
    configInvalid('https://acme01.blob.core.windows.net/inbox/a//b');
    configInvalid('https://Acme_01.blob.core.windows.net/inbox');
    configInvalid('http://127.0.0.1:10000/');
    configInvalid('http://127.0.0.1:10000/devstoreaccount1');
    configInvalid('http://10.0.0.1:10000/devstoreaccount1/inbox');
    for (const container of ['ab', 'x'.repeat(64), 'Inbox', 'in--box', '-inbox', 'inbox-', 'in_box', 'in.box']) {
      configInvalid(`https://acme01.blob.core.windows.net/${container}`);
    }
    assert.equal(parseAzureUrl(`https://acme01.blob.core.windows.net/${'x'.repeat(63)}`).container, 'x'.repeat(63));
    assert.equal(parseAzureUrl('https://acme01.blob.core.windows.net/abc').container, 'abc');
  });
});

describe('Azure error messages', () => {
  const sas = 'sv=2024-08-04&se=2030-01-01T00%3A00%3A00Z&sr=c&sp=rl&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2Babcd%3D';
  const context = { where: 'https://acme01.blob.core.windows.net/inbox', credentialKind: 'sas' as const, secrets: [sas, 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+abcd=', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2Babcd%3D'] };

  it('never quote a SAS that the SDK put into its message', () => {
    secrets.add(sas);
    secrets.add('AbCdEfGhIjKlMnOpQrStUvWxYz0123456789');
    const sdkError = Object.assign(new Error(`getaddrinfo ENOTFOUND for https://acme01.blob.core.windows.net/inbox?restype=container&${sas}\nRequestId:1`), { code: 'ENOTFOUND' });
    const listed = listError(sdkError, context);
    assert.equal(listed.code, 'SOURCE_UNREACHABLE');
    assertNoSecret(listed.message);
    assert.match(listed.message, /ENOTFOUND/);
    const bare = Object.assign(new Error(`Server failed to authenticate: signature ${sas.split('sig=')[1]} did not match`), { statusCode: 403, code: 'AuthenticationFailed' });
    const read = readError(bare, 'a.xip', context);
    assert.equal(read.code, 'SOURCE_AUTH_FAILED');
    assertNoSecret(read.message);
  });
});

describe('the Azure Blob source, against the real Azurite emulator', () => {
  let azurite: RealAzurite;
  let service: BlobServiceClient;
  let inbox: ContainerClient;
  let key: AzureCredential;
  const blobs = new Map<string, Buffer>();

  const source = (path: string, credential: AzureCredential = key, options?: { timeoutMs?: number }): ConnectorSource =>
    azureBlobSource(parseAzureUrl(`${azurite.blobUrl}/${path}`), remember(credential), options);

  function containerSas(permissions: string, expiresOn: Date, signingKey = azurite.accountKey): AzureCredential {
    const sas = generateBlobSASQueryParameters(
      { containerName: 'inbox', permissions: ContainerSASPermissions.parse(permissions), startsOn: new Date(Date.now() - 60_000), expiresOn },
      new StorageSharedKeyCredential(azurite.accountName, signingKey),
    ).toString();
    return { kind: 'sas', sas };
  }

  before(async () => {
    azurite = await startRealAzurite();
    key = remember({ kind: 'key', accountKey: azurite.accountKey });
    service = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
    inbox = service.getContainerClient('inbox');
    await inbox.create();
    const names = ['b.xip', 'a.xip', 'C.XIP', 'notes.txt', 'a.xip.part', 'sub/deep.xip', 'folder/y.XIP', 'folder/x.xip', 'folder/inner/z.xip', 'folder/readme.md'];
    for (const [i, name] of names.entries()) {
      const bytes = randomBytes(1000 + i * 777);
      blobs.set(name, bytes);
      await inbox.getBlockBlobClient(name).uploadData(bytes);
    }
  });

  after(async () => {
    await azurite?.stop();
  });

  it('connects to nothing when made, and describes itself without the secret', async () => {
    const port = await freePort();
    const sas = containerSas('rl', new Date(Date.now() + 3_600_000));
    const s = azureBlobSource(parseAzureUrl(`http://127.0.0.1:${port}/devstoreaccount1/inbox/a/b`), remember(sas));
    assert.equal(s.description, `http://127.0.0.1:${port}/devstoreaccount1/inbox/a/b/`);
    assertNoSecret(s.description);
    await s.close();
  });

  it('lists with the account key: only *.xip directly under the container, sorted, with size and time', async () => {
    const s = source('inbox');
    const files = await s.list();
    assert.deepEqual(files.map((f) => f.name), ['C.XIP', 'a.xip', 'b.xip']);
    for (const f of files) {
      assert.equal(f.size, blobs.get(f.name)?.length);
      assert.ok(f.modified instanceof Date && Math.abs(f.modified.getTime() - Date.now()) < 600_000, String(f.modified));
    }
    await s.close();
  });

  it('honours the prefix: names are relative to it and its sub-folders are left out', async () => {
    const s = source('inbox/folder/');
    const files = await s.list();
    assert.deepEqual(files.map((f) => f.name), ['x.xip', 'y.XIP']);
    assert.deepEqual(await readAll(await s.open(files[1] as SourceFile)), blobs.get('folder/y.XIP'));
    assert.deepEqual((await source('inbox/folder/inner').list()).map((f) => f.name), ['z.xip']);
    assert.deepEqual(await source('inbox/nothing-here').list(), []);
  });

  it('fetches the exact bytes with the account key', async () => {
    const s = source('inbox');
    for (const f of await s.list()) assert.deepEqual(await readAll(await s.open(f)), blobs.get(f.name), f.name);
  });

  it('lists and fetches with a container SAS allowing read and list (with or without the leading "?")', async () => {
    const sas = containerSas('rl', new Date(Date.now() + 3_600_000));
    for (const credential of [sas, { kind: 'sas' as const, sas: `?${(sas as { sas: string }).sas}` }]) {
      const s = source('inbox', credential);
      const files = await s.list();
      assert.deepEqual(files.map((f) => f.name), ['C.XIP', 'a.xip', 'b.xip']);
      assert.deepEqual(await readAll(await s.open(files[2] as SourceFile)), blobs.get('b.xip'));
      assertNoSecret(s.description);
    }
  });

  it('refuses a SAS without a signature at once (CONFIG_INVALID), before any request', () => {
    assert.throws(() => source('inbox', { kind: 'sas', sas: 'sv=2024-08-04&sp=rl' }), (e: unknown) => e instanceof XipError && e.code === 'CONFIG_INVALID');
  });

  it('a wrong account key → SOURCE_AUTH_FAILED, for list and for open', async () => {
    const wrong = remember({ kind: 'key', accountKey: randomBytes(64).toString('base64') });
    const s = source('inbox', wrong);
    await rejectsWith(s.list(), 'SOURCE_AUTH_FAILED');
    await rejectsWith(s.open({ name: 'a.xip', size: blobs.get('a.xip')?.length ?? 0, modified: new Date() }), 'SOURCE_AUTH_FAILED');
  });

  it('a SAS without list permission, an expired SAS or one signed with another key → SOURCE_AUTH_FAILED', async () => {
    const readOnly = source('inbox', containerSas('r', new Date(Date.now() + 3_600_000)));
    const e = await rejectsWith(readOnly.list(), 'SOURCE_AUTH_FAILED');
    assert.match(e.message, /SAS/);
    await rejectsWith(source('inbox', containerSas('rl', new Date(Date.now() - 60_000))).list(), 'SOURCE_AUTH_FAILED');
    await rejectsWith(source('inbox', containerSas('rl', new Date(Date.now() + 3_600_000), randomBytes(64).toString('base64'))).list(), 'SOURCE_AUTH_FAILED');
  });

  it('a container that does not exist → SOURCE_NOT_FOUND', async () => {
    await rejectsWith(source('no-such-container').list(), 'SOURCE_NOT_FOUND');
  });

  it('a blob removed or changed since it was listed → SOURCE_READ_FAILED', async () => {
    await inbox.getBlockBlobClient('gone.xip').uploadData(randomBytes(500));
    const s = source('inbox');
    const gone = (await s.list()).find((f) => f.name === 'gone.xip') as SourceFile;
    await inbox.getBlockBlobClient('gone.xip').uploadData(randomBytes(400));
    await rejectsWith(s.open(gone).then(readAll), 'SOURCE_READ_FAILED');
    await inbox.deleteBlob('gone.xip');
    await rejectsWith(s.open(gone).then(readAll), 'SOURCE_READ_FAILED');
  });

  it('a closed port → SOURCE_UNREACHABLE within seconds (few, short retries)', async () => {
    const port = await freePort();
    const started = Date.now();
    const s = azureBlobSource(parseAzureUrl(`http://127.0.0.1:${port}/devstoreaccount1/inbox`), key);
    await rejectsWith(s.list(), 'SOURCE_UNREACHABLE');
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  it('a server that accepts but never answers → SOURCE_UNREACHABLE after timeoutMs', { timeout: 20_000 }, async () => {
    // An in-process fake (a silence a real server cannot be made to show on demand): accepts, reads, never answers.
    const held: Socket[] = [];
    let hungUp = false;
    const silent: Server = createServer((socket) => {
      if (hungUp) socket.destroy();
      held.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    // Should the source wait forever, hang up after 8 s so that the test fails rather than hangs.
    const guard = setTimeout(() => {
      hungUp = true;
      held.forEach((socket) => socket.destroy());
    }, 8_000);
    try {
      const started = Date.now();
      const s = azureBlobSource(parseAzureUrl(`http://127.0.0.1:${port}/devstoreaccount1/inbox`), key, { timeoutMs: 700 });
      const e = await rejectsWith(s.list(), 'SOURCE_UNREACHABLE');
      assert.match(e.message, /700 ms/);
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
    } finally {
      clearTimeout(guard);
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe('a 16 MiB blob', () => {
    const big = randomBytes(16 * 1024 * 1024);
    let file: SourceFile;
    before(async () => {
      await inbox.getBlockBlobClient('big.xip').uploadData(big);
      file = (await source('inbox').list()).find((f) => f.name === 'big.xip') as SourceFile;
    });

    it('arrives whole to a reader that pauses longer than timeoutMs (holding back is not silence)', async () => {
      const stream = await source('inbox', key, { timeoutMs: 500 }).open(file);
      const chunks: Buffer[] = [];
      let paused = false;
      for await (const chunk of stream) {
        chunks.push(chunk as Buffer);
        if (!paused) {
          paused = true;
          await new Promise((r) => setTimeout(r, 1_500));
        }
      }
      assert.ok(Buffer.concat(chunks).equals(big));
    });

    it('cut short by close() → SOURCE_READ_FAILED saying so', async () => {
      const s = source('inbox');
      const stream = await s.open(file);
      let received = 0;
      const e = await rejectsWith((async () => {
        for await (const chunk of stream) {
          if (received === 0) await s.close();
          received += (chunk as Buffer).length;
        }
      })(), 'SOURCE_READ_FAILED');
      assert.match(e.message, /closed/);
      assert.ok(received < big.length, `received ${received}`);
    });

    it('from a server that stops sending → SOURCE_READ_FAILED after timeoutMs', { timeout: 20_000 }, async () => {
      const stream = await source('inbox', key, { timeoutMs: 700 }).open(file);
      let received = 0;
      const started = Date.now();
      // Should the source wait forever, thaw Azurite after 8 s so that the test fails rather than hangs.
      const guard = setTimeout(() => process.kill(azurite.pid, 'SIGCONT'), 8_000);
      try {
        const e = await rejectsWith((async () => {
          for await (const chunk of stream) {
            // Freeze Azurite (SIGSTOP) once bytes flow: the socket stays open, nothing more comes.
            if (received === 0) process.kill(azurite.pid, 'SIGSTOP');
            received += (chunk as Buffer).length;
          }
        })(), 'SOURCE_READ_FAILED');
        assert.match(e.message, /no data for 700 ms/);
      } finally {
        clearTimeout(guard);
        process.kill(azurite.pid, 'SIGCONT');
      }
      assert.ok(received > 0 && received < big.length, `received ${received}`);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    });
  });
});

describe('a 64 MiB download from the real Azurite emulator, killed in the middle', () => {
  it('fails with SOURCE_READ_FAILED (never a short end), quickly, without the SAS in the message', { timeout: 60_000 }, async () => {
    const azurite = await startRealAzurite();
    try {
      const size = 64 * 1024 * 1024;
      const container = new BlobServiceClient(azurite.blobUrl, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).getContainerClient('inbox');
      await container.create();
      await container.getBlockBlobClient('large.xip').uploadData(randomBytes(size));
      const sas = generateBlobSASQueryParameters(
        { containerName: 'inbox', permissions: ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 3_600_000) },
        new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
      ).toString();
      secrets.add(azurite.accountKey);
      const s = azureBlobSource(parseAzureUrl(`${azurite.blobUrl}/inbox`), remember({ kind: 'sas', sas }));
      const [file] = await s.list();
      assert.equal(file?.size, size);
      const stream = await s.open(file as SourceFile);
      let received = 0;
      let killedAt = 0;
      await rejectsWith((async () => {
        for await (const chunk of stream) {
          received += (chunk as Buffer).length;
          if (killedAt === 0) {
            azurite.kill();
            killedAt = Date.now();
          }
        }
      })(), 'SOURCE_READ_FAILED');
      assert.ok(received > 0 && received < size, `the cut came mid-transfer: received ${received} of ${size}`);
      assert.ok(Date.now() - killedAt < 15_000, `failed ${Date.now() - killedAt} ms after the kill`);
    } finally {
      await azurite.stop();
    }
  });
});
