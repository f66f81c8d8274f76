// Where an Azure Blob source reads: a container (and a "folder" in it, the
// prefix) named by one URL, checked when the connector is configured so that
// a typo is reported as CONFIG_INVALID there, not as a failed run later.
// Two URL styles: Azure's own (the account in the host name) and Azurite's
// path-style on the loopback (the account in the first path segment), which
// the emulator uses for local trials and the tests.
import { XipError } from '../errors.js';

export interface AzureLocation {
  /** The account's blob endpoint, without a trailing slash: https://ACCOUNT.blob.core.windows.net or http://127.0.0.1:PORT/ACCOUNT */
  serviceUrl: string;
  accountName: string;
  container: string;
  /** '' or a '/'-separated "folder" ending in '/' ('a/b/'): only blobs directly under it are listed. */
  prefix: string;
}

const AZURE_HOST = /^([^.]+)\.blob\.core\.windows\.net$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);
// Azure's naming rules (learn.microsoft.com: "Naming and referencing containers, blobs, and metadata").
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const CONTAINER_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function invalid(detail: string): XipError {
  return new XipError('CONFIG_INVALID', `source: ${detail}`);
}

/**
 * Reads `https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]` or
 * Azurite's `http://127.0.0.1:PORT/ACCOUNT/CONTAINER[/PREFIX]` (or
 * `localhost`). Throws XipError CONFIG_INVALID naming what to fix.
 */
export function parseAzureUrl(url: string): AzureLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`"${url}" is not a URL; give https://ACCOUNT.blob.core.windows.net/CONTAINER[/FOLDER]`);
  }
  // The secret goes in the connector's credential, where it is stored encrypted, never in the URL that logs show.
  if (parsed.username !== '' || parsed.password !== '') throw invalid('the URL must not hold a user name or password; give the account key or SAS as the credential');
  if (parsed.search !== '') throw invalid('the URL must not have a query string (a SAS goes in the credential, not the URL); remove everything from "?"');
  if (parsed.hash !== '') throw invalid('the URL must not have a "#" fragment; remove it');
  const segments = pathSegments(parsed.pathname);
  const azure = AZURE_HOST.exec(parsed.hostname);
  if (azure) {
    if (parsed.protocol !== 'https:') throw invalid('an Azure blob endpoint must be reached with https://');
    if (parsed.port !== '') throw invalid('an Azure blob endpoint takes no port; remove ":' + parsed.port + '"');
    return locate(`https://${parsed.hostname}`, azure[1] ?? '', segments);
  }
  if (LOOPBACK_HOSTS.has(parsed.hostname) && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) {
    // Azurite's path-style: the account is the first path segment.
    const [account, ...rest] = segments;
    if (account === undefined) throw invalid(`an emulator URL names the account after the port: ${parsed.origin}/ACCOUNT/CONTAINER[/FOLDER]`);
    checkAccount(account);
    return locate(`${parsed.origin}/${account}`, account, rest);
  }
  throw invalid(`"${parsed.host}" is not an Azure blob endpoint; give https://ACCOUNT.blob.core.windows.net/CONTAINER[/FOLDER] (or the Azurite emulator's http://127.0.0.1:PORT/ACCOUNT/CONTAINER)`);
}

function locate(serviceUrl: string, accountName: string, segments: string[]): AzureLocation {
  checkAccount(accountName);
  const [container, ...folders] = segments;
  if (container === undefined) throw invalid('the URL names no container; add /CONTAINER after the account');
  if (container.length < 3 || container.length > 63 || !CONTAINER_NAME.test(container)) {
    throw invalid(`"${container}" is not a valid container name: 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit`);
  }
  return { serviceUrl, accountName, container, prefix: folders.length === 0 ? '' : `${folders.join('/')}/` };
}

function checkAccount(account: string): void {
  if (!ACCOUNT_NAME.test(account)) throw invalid(`"${account}" is not a valid storage account name: 3 to 24 lowercase letters and digits`);
}

/** The path's segments, percent-decoded; one trailing '/' is allowed, an empty segment ('//') is not. */
function pathSegments(pathname: string): string[] {
  const trimmed = pathname.replace(/^\//, '').replace(/\/$/, '');
  if (trimmed === '') return [];
  return trimmed.split('/').map((segment) => {
    // An empty segment would make a prefix like 'a//b/' that matches no "folder" anyone sees in the portal.
    if (segment === '') throw invalid(`the path "${pathname}" has an empty segment ("//"); remove the extra "/"`);
    try {
      return decodeURIComponent(segment);
    } catch {
      throw invalid(`the path segment "${segment}" is not valid percent-encoding`);
    }
  });
}
