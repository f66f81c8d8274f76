// A throwaway PKI made with the real `openssl` command, for tests: CAs with
// `openssl ca` (so that validity dates can lie in the past or future), leaf
// certificates of any key type, CRLs and an RFC 3161 TSA (`openssl ts`).
// Every call is non-interactive (-batch) and works inside one directory.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type KeyKind = 'rsa' | 'rsa1024' | 'rsa-pss' | 'p256' | 'p384' | 'p521' | 'ed25519';

/** Runs openssl; rejects with its stderr. `input` goes to stdin. */
export function openssl(args: readonly string[], options: { cwd?: string; input?: Buffer } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { cwd: options.cwd, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args.join(' ')} failed: ${stderr.toString() || err.message}`));
      else resolve(stdout);
    });
    // openssl may exit before reading stdin: EPIPE there is not the failure, its exit status is.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? Buffer.alloc(0));
  });
}

const KEY_ARGS: Readonly<Record<KeyKind, readonly string[]>> = {
  rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  'rsa-pss': ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'],
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  p521: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  ed25519: ['-algorithm', 'ED25519'],
};

/** Writes a PKCS#8 PEM private key to `path`. */
export async function makeKey(path: string, kind: KeyKind): Promise<string> {
  await openssl(['genpkey', ...KEY_ARGS[kind], '-out', path]);
  return path;
}

/** openssl's date form for -startdate/-enddate (GeneralizedTime, YYYYMMDDHHMMSSZ). */
export function opensslDate(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

export const DAY_MS = 86_400_000;

/** Extension sections of the CA configuration, chosen per certificate with `profile`. */
export type Profile = 'ca' | 'signer' | 'encipherment' | 'tsa' | 'noext';

const EXTENSIONS = `
[ ext_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_signer ]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_encipherment ]
basicConstraints = CA:false
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_tsa ]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_noext ]
`;

export interface IssueOptions {
  readonly name: string;
  readonly subject?: string;
  readonly kind?: KeyKind;
  readonly profile?: Profile;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Use this key file rather than making one. */
  readonly keyPath?: string;
}

export interface Issued {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
}

/** A CA run by `openssl ca`, with its own database, serial file and CRL. */
export class TestCa implements Issued {
  private constructor(
    readonly dir: string,
    readonly name: string,
    readonly certPath: string,
    readonly keyPath: string,
    readonly certPem: Buffer,
    readonly keyPem: Buffer,
  ) {}

  /** A root (self-signed, via -selfsign) or, with `issuer`, an intermediate CA; `profile` other than 'ca' makes a bad CA for tests. */
  static async create(baseDir: string, name: string, options: { issuer?: TestCa; kind?: KeyKind; notBefore?: Date; notAfter?: Date; profile?: Profile } = {}): Promise<TestCa> {
    const dir = join(baseDir, name);
    await mkdir(join(dir, 'newcerts'), { recursive: true });
    await writeFile(join(dir, 'index.txt'), '');
    // A random positive serial base of even hex length, so that CAs of one test do not share serial numbers.
    const serial = randomBytes(8);
    serial[0] = ((serial[0] as number) & 0x3f) | 0x10;
    await writeFile(join(dir, 'serial'), `${serial.toString('hex')}\n`);
    await writeFile(join(dir, 'crlnumber'), '01\n');
    const keyPath = await makeKey(join(dir, 'ca.key'), options.kind ?? 'rsa');
    const certPath = join(dir, 'ca.pem');
    await writeFile(join(dir, 'ca.cnf'), caConfig(dir, keyPath, certPath));
    const csr = join(dir, 'ca.csr');
    await openssl(['req', '-batch', '-new', '-key', keyPath, '-subj', `/O=xip tests/CN=${name}`, '-out', csr]);
    const issuer = options.issuer;
    await openssl([
      'ca', '-batch', '-notext',
      '-config', issuer ? join(issuer.dir, 'ca.cnf') : join(dir, 'ca.cnf'),
      ...(issuer ? [] : ['-selfsign', '-keyfile', keyPath]),
      '-extensions', `ext_${options.profile ?? 'ca'}`, '-in', csr, '-out', certPath,
      '-startdate', opensslDate(options.notBefore ?? new Date(Date.now() - 30 * DAY_MS)),
      '-enddate', opensslDate(options.notAfter ?? new Date(Date.now() + 3650 * DAY_MS)),
    ]);
    return new TestCa(dir, name, certPath, keyPath, await pemOnly(certPath), await readFile(keyPath));
  }

  /** Issues a certificate; default validity: from 2 days ago for a year. */
  async issue(options: IssueOptions): Promise<Issued> {
    const keyPath = options.keyPath ?? (await makeKey(join(this.dir, `${options.name}.key`), options.kind ?? 'rsa'));
    const csr = join(this.dir, `${options.name}.csr`);
    const certPath = join(this.dir, `${options.name}.pem`);
    await openssl(['req', '-batch', '-new', '-key', keyPath, '-subj', options.subject ?? `/O=xip tests/CN=${options.name}`, '-out', csr]);
    await openssl([
      'ca', '-batch', '-notext', '-config', join(this.dir, 'ca.cnf'),
      '-extensions', `ext_${options.profile ?? 'signer'}`, '-in', csr, '-out', certPath,
      '-startdate', opensslDate(options.notBefore ?? new Date(Date.now() - 2 * DAY_MS)),
      '-enddate', opensslDate(options.notAfter ?? new Date(Date.now() + 365 * DAY_MS)),
    ]);
    return { certPath, keyPath, certPem: await pemOnly(certPath), keyPem: await readFile(keyPath) };
  }

  /** Revokes a certificate this CA issued (revocation date: now) and writes a fresh CRL; returns its path. */
  async revoke(certPath: string): Promise<string> {
    await openssl(['ca', '-batch', '-config', join(this.dir, 'ca.cnf'), '-revoke', certPath, '-crl_reason', 'keyCompromise']);
    return this.crl();
  }

  /** Writes the CA's current CRL (PEM) and returns its path. */
  async crl(): Promise<string> {
    const path = join(this.dir, 'crl.pem');
    await openssl(['ca', '-batch', '-config', join(this.dir, 'ca.cnf'), '-gencrl', '-crldays', '30', '-out', path]);
    return path;
  }
}

function caConfig(dir: string, keyPath: string, certPath: string): string {
  return `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = ${dir}
database = ${join(dir, 'index.txt')}
new_certs_dir = ${join(dir, 'newcerts')}
serial = ${join(dir, 'serial')}
crlnumber = ${join(dir, 'crlnumber')}
certificate = ${certPath}
private_key = ${keyPath}
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
default_crl_days = 30
[ policy_any ]
organizationName = optional
commonName = supplied
${EXTENSIONS}`;
}

// `openssl ca -out` writes only the PEM with -notext; keep only the PEM block anyway.
async function pemOnly(path: string): Promise<Buffer> {
  const text = (await readFile(path, 'latin1')).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/);
  if (!text) throw new Error(`${path}: no certificate`);
  return Buffer.from(text[0], 'latin1');
}

export interface TestPki {
  readonly dir: string;
  readonly root: TestCa;
  readonly intermediate: TestCa;
  readonly caCertPem: Buffer;
  readonly caCertPath: string;
  readonly intermediateCertPem: Buffer;
  readonly intermediateCertPath: string;
  readonly signerCertPem: Buffer;
  readonly signerCertPath: string;
  readonly signerKeyPem: Buffer;
  readonly signerKeyPath: string;
}

/** Root CA → intermediate CA → signer (keyUsage digitalSignature, nonRepudiation) of the given key type. */
export async function makeTestPki(dir: string, options: { kind?: KeyKind; prefix?: string } = {}): Promise<TestPki> {
  const prefix = options.prefix ?? 'test';
  const root = await TestCa.create(dir, `${prefix}-root`);
  const intermediate = await TestCa.create(dir, `${prefix}-intermediate`, { issuer: root });
  const signer = await intermediate.issue({ name: `${prefix}-signer`, kind: options.kind ?? 'rsa' });
  return {
    dir,
    root,
    intermediate,
    caCertPem: root.certPem,
    caCertPath: root.certPath,
    intermediateCertPem: intermediate.certPem,
    intermediateCertPath: intermediate.certPath,
    signerCertPem: signer.certPem,
    signerCertPath: signer.certPath,
    signerKeyPem: signer.keyPem,
    signerKeyPath: signer.keyPath,
  };
}

/** An RFC 3161 TSA run by `openssl ts -reply`, certificate issued by `ca` (EKU timeStamping, critical). */
export class TestTsa {
  private constructor(
    readonly dir: string,
    readonly configPath: string,
    readonly issued: Issued,
  ) {}

  /** `essCertIdAlg` sha1 makes openssl name the TSA with ESS signingCertificate (v1) instead of v2. */
  static async create(ca: TestCa, name = 'tsa', options: { essCertIdAlg?: 'sha1' | 'sha256' } = {}): Promise<TestTsa> {
    const issued = await ca.issue({ name, profile: 'tsa' });
    const dir = join(ca.dir, `${name}-ts`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'serial'), '01\n');
    // The token carries the TSA and its CA certificate (certs=), and names the TSA with ESSCertIDv2 (ess_cert_id_alg).
    await writeFile(join(dir, 'chain.pem'), ca.certPem);
    const configPath = join(dir, 'tsa.cnf');
    await writeFile(
      configPath,
      `[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = ${dir}
serial = ${join(dir, 'serial')}
crypto_device = builtin
signer_cert = ${issued.certPath}
signer_key = ${issued.keyPath}
certs = ${join(dir, 'chain.pem')}
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = ${options.essCertIdAlg ?? 'sha256'}
`,
    );
    return new TestTsa(dir, configPath, issued);
  }

  /** A TimeStampToken (ContentInfo DER) over `data`, made by `openssl ts -reply -token_out`. */
  async timestamp(data: Buffer): Promise<Buffer> {
    const id = `${Date.now()}-${Math.random().toString(16).slice(2)}`;
    const dataPath = join(this.dir, `${id}.bin`);
    const query = join(this.dir, `${id}.tsq`);
    const token = join(this.dir, `${id}.tst`);
    await writeFile(dataPath, data);
    await openssl(['ts', '-query', '-data', dataPath, '-sha256', '-cert', '-no_nonce', '-out', query]);
    await openssl(['ts', '-reply', '-config', this.configPath, '-queryfile', query, '-token_out', '-out', token]);
    return readFile(token);
  }
}
