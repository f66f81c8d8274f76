// The directory of a contract double of Microsoft Graph: the tenant's users.
//
// - GET /v1.0/users, https://learn.microsoft.com/en-us/graph/api/user-list:
//   "$skip isn't supported"; default and largest page 100 and 999 users;
//   pages by @odata.nextLink (an opaque $skiptoken); without $select only the
//   default set (businessPhones, displayName, givenName, id, jobTitle, mail,
//   mobilePhone, officeLocation, preferredLanguage, surname,
//   userPrincipalName) — proxyAddresses only when selected. $filter: `eq`
//   on id, userPrincipalName, mail or displayName.
// - GET /v1.0/users/{id | userPrincipalName}, https://learn.microsoft.com/en-us/graph/api/user-get:
//   by id or UPN only; unknown: 404 Request_ResourceNotFound.
// - Properties, https://learn.microsoft.com/en-us/graph/api/resources/user:
//   mail "The SMTP address for the user", proxyAddresses "SMTP:" the primary
//   and "smtp:" the others, userPrincipalName.
//
// Decision where the docs are silent: a user without an Exchange Online
// mailbox (mailboxEnabled: false) is listed with `mail: null` (Exchange
// provisioning fills mail) and the proxyAddresses it was given (default none).
// Permissions (User.Read.All) are not modelled: any valid Graph token may list.
import type { Mailbox } from './state.js';
import { primarySmtp } from './state.js';
import { eqFilter, intOption, nextLink, offsetOf, option, selected, skipToken, type Query } from './odata.js';
import { graphError, sendJson, type Exchange } from './respond.js';
import type { GraphContext } from './graph.js';

const DEFAULT_SET = ['businessPhones', 'displayName', 'givenName', 'id', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName'];

export function userJson(mb: Mailbox): Record<string, unknown> {
  return {
    id: mb.id,
    businessPhones: [],
    displayName: mb.displayName,
    givenName: null,
    jobTitle: null,
    mail: mb.mailboxEnabled ? primarySmtp(mb) : null,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    userPrincipalName: mb.address,
    proxyAddresses: mb.mailboxEnabled || mb.proxyAddresses.length > 0 ? [...mb.proxyAddresses] : [],
    accountEnabled: true,
  };
}

/** Directory objects answer exactly the selected properties (id only when selected), else the default set. */
function cut(user: Record<string, unknown>, select: Set<string> | undefined): Record<string, unknown> {
  const keep = select ?? new Set(DEFAULT_SET.map((p) => p.toLowerCase()));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(user)) if (keep.has(k.toLowerCase())) out[k] = v;
  return out;
}

const FILTERABLE = new Set(['id', 'userprincipalname', 'mail', 'displayname']);

function matches(mb: Mailbox, property: string, value: string): boolean {
  const v = value.toLowerCase();
  switch (property.toLowerCase()) {
    case 'id':
      return mb.id === v;
    case 'userprincipalname':
      return mb.address.toLowerCase() === v;
    case 'mail':
      return mb.mailboxEnabled && primarySmtp(mb).toLowerCase() === v;
    default:
      return mb.displayName.toLowerCase() === v;
  }
}

export function listUsers(ctx: GraphContext, x: Exchange, q: Query, pathname: string): void {
  if (option(q, 'skip') !== null) return graphError(x, 400, 'Request_BadRequest', "'$skip' is not supported by the service.");
  const top = intOption(q, 'top', 999);
  if (top === 'invalid' || top === 0) return graphError(x, 400, 'Request_BadRequest', `Invalid page size specified: '${option(q, 'top')}'. Must be between 1 and 999 inclusive.`);
  const token = option(q, 'skiptoken');
  const offset = token === null ? 0 : offsetOf(token);
  if (offset === undefined) return graphError(x, 400, 'Request_BadRequest', 'Invalid paging token.');
  const filter = eqFilter(q);
  if (filter === 'invalid') return graphError(x, 400, 'Request_UnsupportedQuery', 'Unsupported or invalid query filter clause specified.');
  let users = ctx.directory.all;
  if (filter) {
    if (!FILTERABLE.has(filter.property.toLowerCase())) return graphError(x, 400, 'Request_UnsupportedQuery', `Unsupported property '${filter.property}' in filter clause.`);
    users = users.filter((mb) => matches(mb, filter.property, filter.value));
  }
  const size = top ?? 100;
  const select = selected(q);
  const page = users.slice(offset, offset + size).map((mb) => cut(userJson(mb), select));
  const body: Record<string, unknown> = { '@odata.context': `${ctx.url}/v1.0/$metadata#users${select ? `(${[...select].join(',')})` : ''}` };
  if (offset + size < users.length) body['@odata.nextLink'] = nextLink(ctx.url, pathname, q, '$skiptoken', skipToken(offset + size));
  body.value = page;
  sendJson(x, 200, body);
}

export function getUser(ctx: GraphContext, x: Exchange, q: Query, key: string): void {
  const mb = ctx.directory.forDirectory(key);
  if (!mb) return graphError(x, 404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
  sendJson(x, 200, { '@odata.context': `${ctx.url}/v1.0/$metadata#users/$entity`, ...cut(userJson(mb), selected(q)) });
}
