// The organisation's directory from Microsoft 365 itself (`--directory
// graph://TENANT`): every user with a mailbox address, read with
// `GET /v1.0/users?$select=id,displayName,mail,userPrincipalName,proxyAddresses&$top=999`
// page by page (https://learn.microsoft.com/en-us/graph/api/user-list,
// permission User.Read.All; https://learn.microsoft.com/en-us/graph/paging).
//
// - address: `mail`, the primary SMTP address (a user without one has no
//   mailbox to deliver to and is left out);
// - aliases: every `smtp:` proxy address (https://learn.microsoft.com/en-us/graph/api/resources/user,
//   proxyAddresses: "SMTP:" is the primary, "smtp:" the others; X500: and
//   other types are not email addresses) and the userPrincipalName when it
//   differs;
// - litigationHold: Microsoft Graph does not expose a mailbox's litigation
//   hold (it is Exchange Online PowerShell's Get-Mailbox LitigationHoldEnabled);
//   it is false for every mailbox, and --hold-only is refused with this
//   directory (wiring) rather than silently matching nobody.
import { isEmailAddress } from '../../items/schema.js';
import { createDirectory, type Directory, type DirectoryMailbox } from '../../mapping/directory.js';
import { XipError } from '../../errors.js';
import { DeliveryError } from '../errors.js';
import { MailboxUnavailable, type GraphApi } from './api.js';
import { expectOk } from './folders.js';
import { withRetries, type RetryPolicy } from './retry.js';

interface UserPage {
  readonly value?: readonly GraphUser[];
  readonly '@odata.nextLink'?: unknown;
}

interface GraphUser {
  readonly displayName?: unknown;
  readonly mail?: unknown;
  readonly userPrincipalName?: unknown;
  readonly proxyAddresses?: unknown;
}

/** The requests for the directory go through a gate of their own, under this name. */
const DIRECTORY_GATE = '(directory)';

export function mailboxOf(user: GraphUser): DirectoryMailbox | undefined {
  if (typeof user.mail !== 'string' || !isEmailAddress(user.mail)) return undefined;
  const aliases: string[] = [];
  if (Array.isArray(user.proxyAddresses)) {
    for (const p of user.proxyAddresses) {
      if (typeof p !== 'string' || !/^smtp:/i.test(p)) continue;
      const address = p.slice(5);
      if (isEmailAddress(address)) aliases.push(address);
    }
  }
  if (typeof user.userPrincipalName === 'string' && isEmailAddress(user.userPrincipalName)) aliases.push(user.userPrincipalName);
  return { address: user.mail, name: typeof user.displayName === 'string' ? user.displayName : '', aliases, litigationHold: false };
}

/** Reads the users; DIRECTORY_UNAVAILABLE when Graph cannot be asked (credentials, permission, network). */
export async function readGraphDirectory(api: GraphApi, retry: RetryPolicy, tenant: string): Promise<Directory> {
  try {
    return await readUsers(api, retry, tenant);
  } catch (e) {
    if (e instanceof MailboxUnavailable || e instanceof DeliveryError) throw new XipError('DIRECTORY_UNAVAILABLE', `graph://${tenant}: ${e instanceof DeliveryError ? (e.detail ?? e.message) : e.reason}`, { cause: e });
    throw e;
  }
}

async function readUsers(api: GraphApi, retry: RetryPolicy, tenant: string): Promise<Directory> {
  const mailboxes: DirectoryMailbox[] = [];
  const where: string[] = [];
  let url: string | undefined = `${api.graphUrl}/v1.0/users?$select=id,displayName,mail,userPrincipalName,proxyAddresses&$top=999`;
  while (url !== undefined) {
    const pageUrl: string = url;
    const page = (await withRetries(retry, `reading the users of ${tenant}`, async () => expectOk(await api.get(DIRECTORY_GATE, pageUrl), `reading the users of ${tenant}`))) as UserPage;
    for (const user of page.value ?? []) {
      const m = mailboxOf(user);
      if (!m) continue;
      mailboxes.push(m);
      where.push(`graph://${tenant} user ${m.address}`);
    }
    const next = page['@odata.nextLink'];
    url = typeof next === 'string' ? next : undefined;
  }
  return createDirectory(mailboxes, (i) => where[i] ?? `graph://${tenant} user ${i + 1}`);
}
