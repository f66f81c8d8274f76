// Key material for a contract double of Microsoft Graph, made with the
// openssl CLI in a temporary directory: a throwaway test CA, a server
// certificate for 127.0.0.1 and localhost signed by it (subjectAltName, so
// that clients verify the name), and, when the test brings none, the app's
// own certificate credential (a self-signed RSA certificate and its key, as
// an app registration's "certificates" entry,
// https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface TlsMaterial {
  readonly dir: string;
  readonly caPem: string;
  readonly caPath: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  remove(): Promise<void>;
}

export interface AppCredential {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  try {
    await execFileP('openssl', args, { cwd: dir });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`graph double: openssl ${args[0]} failed: ${err.stderr?.trim() || err.message}`, { cause: e });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeTls(): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'xip-graph-double-'));
  try {
    await openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=xip-connector graph double test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await openssl(dir, ['req', '-new', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    await writeFile(join(dir, 'server.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '30', '-extfile', 'server.ext', '-out', 'server.crt']);
    const [caPem, serverCertPem, serverKeyPem] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(dir, f), 'utf8')));
    return { dir, caPem: caPem!, caPath: join(dir, 'ca.crt'), serverCertPem: serverCertPem!, serverKeyPem: serverKeyPem!, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A self-signed RSA 2048 certificate and its PKCS#8 key, for the client assertion (RS256 / PS256 need RSA). */
export async function makeAppCredential(dir: string, subject = 'xip-connector test app'): Promise<AppCredential> {
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'app.key', '-out', 'app.crt', '-days', '30', '-subj', `/CN=${subject}`]);
  const [certificatePem, privateKeyPem] = await Promise.all([readFile(join(dir, 'app.crt'), 'utf8'), readFile(join(dir, 'app.key'), 'utf8')]);
  return { certificatePem, privateKeyPem };
}
