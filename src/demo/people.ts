// Who takes part in the demo's exports, and the directory and custom mapping
// (xip-items.md §4) that say whose mailboxes they are. The cast is chosen so
// that each rule of §4 is seen once: a mailbox reached by an alias, a user
// reached only through the custom mapping (his platform account carries a
// contractor's address), a user off litigation hold, a colleague missing
// from the directory, and external counterparts who get no copy.

export interface DemoParty {
  readonly name: string;
  readonly email?: string;
  readonly sourceId?: string;
}

export const people = {
  ana: { name: 'Ana Ruiz', email: 'ana.ruiz@corp.example', sourceId: 'dc-u-991' },
  /** Ana's DemoSocial account was opened with her alias: the directory finds her mailbox by it. */
  anaSocial: { name: 'Ana Ruiz', email: 'a.ruiz@corp.example', sourceId: 'ds-u-20417' },
  bo: { name: 'Bo Chen', email: 'bo.chen@corp.example', sourceId: 'dc-u-104' },
  carla: { name: 'Carla Mendes', email: 'carla.mendes@corp.example', sourceId: 'ds-u-8801' },
  /** On the directory with litigationHold false: a hold-only connector skips his mailbox. */
  dev: { name: 'Dev Patel', email: 'dev.patel@corp.example', sourceId: 'dc-u-330' },
  elin: { name: 'Elin Berg', email: 'elin.berg@corp.example', sourceId: 'dc-u-412' },
  /**
   * Works for Corp Example through a consultancy, whose address his DemoChat
   * account carries: no directory address or alias matches it, only the
   * custom mapping of his source id does.
   */
  farid: { name: 'Farid Haddad', email: 'f.haddad@northwind-consulting.example', sourceId: 'dc-u-3307' },
  /** A new joiner not yet in the directory, and not in the mapping: the demo's unmapped participant. */
  gus: { name: 'Gus Lind', email: 'gus.lind@corp.example', sourceId: 'dc-u-3402' },
  // External counterparts: outside the organisation, written into the messages, no copy.
  clientDesk: { name: 'Client Desk (Helvetia AM)', email: 'desk@helvetia-am.example' },
  jonas: { name: 'Jonas Meyer', email: 'j.meyer@alpine-broker.example', sourceId: 'dc-ext-5521' },
  custody: { name: 'Custody Operations', email: 'ops@custody-bank.example' },
  lena: { name: 'Lena Kovac', email: 'lena.kovac@mail.example', sourceId: 'ds-u-55102' },
  rita: { name: 'Rita Weber', email: 'r.weber@audit-partners.example', sourceId: 'dx-ext-118' },
} as const satisfies Record<string, DemoParty>;

export const UNMAPPED_EMAIL = people.gus.email;

/** xip-items.md §4: 7 mailboxes at corp.example, Ana with two aliases, Dev off hold, a compliance mailbox for a catch-all. */
export const DIRECTORY_CSV = [
  'email,name,aliases,litigationHold',
  'ana.ruiz@corp.example,Ana Ruiz,a.ruiz@corp.example;ana@corp.example,true',
  'bo.chen@corp.example,Bo Chen,,true',
  'carla.mendes@corp.example,Carla Mendes,,true',
  'dev.patel@corp.example,Dev Patel,,false',
  'elin.berg@corp.example,Elin Berg,,true',
  'farid.haddad@corp.example,Farid Haddad,,true',
  'compliance.archive@corp.example,Compliance Archive,,true',
  '',
].join('\n');

/** Farid's DemoChat id goes to his corp.example mailbox, whatever address the platform has for him. */
export const MAPPING_CSV = ['sourceId,mailbox', `${people.farid.sourceId},farid.haddad@corp.example`, ''].join('\n');
