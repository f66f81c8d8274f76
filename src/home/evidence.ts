// Which evidence store an installation uses: the folder XIP_HOME/evidence by
// default, or, when XIP_EVIDENCE_URL names an Azure Blob container (and
// folder), that container, so that workers on several machines see the same
// files (issue 12). Like XIP_DATABASE_URL, the URL and its credential are
// read from the environment only, never from a flag: a command line is
// visible to every user of the machine.
import { XipError } from '../errors.js';
import { azureEvidenceStore } from '../evidence/azure-blob-store.js';
import { fileEvidenceStore } from '../evidence/store.js';
import type { EvidenceStore } from '../ports/evidence-store.js';
import { parseAzureUrl, type AzureCredential } from '../sources/azure-blob.js';
import { scrub } from '../sources/azure-errors.js';
import type { Home } from './home.js';

export const EVIDENCE_ENV = { url: 'XIP_EVIDENCE_URL', key: 'XIP_EVIDENCE_ACCOUNT_KEY', sas: 'XIP_EVIDENCE_SAS' } as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

/** The installation's evidence store; USAGE naming the variable to fix when XIP_EVIDENCE_* are wrong. Connects to nothing. */
export function evidenceStoreFor(home: Pick<Home, 'evidence'>, env: NodeJS.ProcessEnv = process.env): EvidenceStore {
  const url = env[EVIDENCE_ENV.url];
  if (url === undefined || url === '') return fileEvidenceStore(home.evidence);
  const key = env[EVIDENCE_ENV.key] || undefined;
  const sas = env[EVIDENCE_ENV.sas] || undefined;
  const secrets = [key, sas].filter((s): s is string => s !== undefined);
  // What parseAzureUrl quotes of the URL is scrubbed of any SAS pasted into it, and every message of the secrets given.
  const usage = (detail: string, quotesUrl = false) => new XipError('USAGE', quotesUrl ? scrub(detail, secrets) : secrets.reduce((text, s) => text.split(s).join('[secret]'), detail));
  if (!/^https?:\/\//i.test(url)) throw usage(`${EVIDENCE_ENV.url} must be an https:// Azure container URL, https://ACCOUNT.blob.core.windows.net/CONTAINER[/FOLDER]`);
  // parseAzureUrl refuses it too, but in a source's terms: said here in the variable's.
  if (/^http:/i.test(url) && !LOOPBACK.has(hostOf(url))) {
    throw usage(`${EVIDENCE_ENV.url}: plain http:// is allowed only for the Azurite emulator on 127.0.0.1 or localhost; use https://`);
  }
  const location = fromConfig(() => parseAzureUrl(url), EVIDENCE_ENV.url, (detail) => usage(detail, true));
  if ((key === undefined) === (sas === undefined)) {
    throw usage(`${EVIDENCE_ENV.url} is set: give exactly one of ${EVIDENCE_ENV.key} (the storage account key) or ${EVIDENCE_ENV.sas} (a SAS for the container)${key !== undefined ? ', not both' : ''}`);
  }
  const credential: AzureCredential = key !== undefined ? { kind: 'key', accountKey: key } : { kind: 'sas', sas: sas ?? '' };
  return fromConfig(() => azureEvidenceStore(location, credential), key !== undefined ? EVIDENCE_ENV.key : EVIDENCE_ENV.sas, usage);
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** Runs a check that throws CONFIG_INVALID ("source: …", "credential: …") and says it as USAGE about the variable. */
function fromConfig<T>(make: () => T, variable: string, usage: (detail: string) => XipError): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof XipError && e.code === 'CONFIG_INVALID') throw usage(`${variable}: ${(e.detail ?? e.message).replace(/^(source|credential): /, '')}`);
    throw e;
  }
}
