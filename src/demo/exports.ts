// What the demo's three platforms exported on each of three days: chats,
// social posts and a shared document, as item JSON (xip-items.md §2).
//
// Threads are `conversation` (id and title). The format has no field for
// "in reply to": a reply names its parent's item id in `properties.replyTo`,
// which travels with the message in X-XIP-Properties (§3) without the
// connector giving it a meaning of its own.
import { people, type DemoParty } from './people.js';

export type Role = 'to' | 'cc' | 'bcc' | 'member';

export interface DemoItem {
  readonly id: string;
  readonly type: string;
  readonly sentAt: string;
  readonly from: DemoParty;
  readonly participants?: readonly (DemoParty & { readonly role: Role })[];
  readonly conversation?: { readonly id: string; readonly title: string };
  readonly subject?: string;
  readonly body?: { readonly text: string; readonly html?: string };
  readonly attachments?: readonly { readonly path: string; readonly name: string; readonly contentType: string }[];
  readonly properties?: Readonly<Record<string, string>>;
}

export type DemoSourceName = 'demochat' | 'demosocial' | 'democollab';

export interface ExportSpec {
  readonly source: DemoSourceName;
  readonly day: string; // YYYY-MM-DD, UTC
  /** Item entries: a `.ndjson` entry holds its items one per line, a `.json` entry exactly one. */
  readonly entries: Readonly<Record<string, readonly DemoItem[]>>;
  /** Attachment entries that are generated when written: the large one is never held in a spec. */
  readonly generated?: Readonly<Record<string, 'trade-blotter'>>;
  /** Tampering after signing: the first occurrence of `find` in `entry` becomes `replace`, which differs in one byte. */
  readonly tamper?: { readonly entry: string; readonly find: string; readonly replace: string };
}

/** The three days, oldest first. */
export interface DemoDays {
  readonly d1: string;
  readonly d2: string;
  readonly d3: string;
}

const compact = (day: string) => day.replaceAll('-', '');

/** A time on `day` as DemoChat writes it: Zurich winter time (the desk's times are all past 01:00, so the UTC day is the same). */
const zurich = (day: string, time: string) => `${day}T${time}+01:00`;

/**
 * Messages of one chat room: every member but the sender is a participant
 * (role member), so each member's mailbox gets the message.
 */
function room(day: string, conversation: { id: string; title: string }, members: readonly DemoParty[]) {
  let n = 0;
  return (time: string, from: DemoParty, text: string, replyTo?: string): DemoItem => ({
    id: `dc-${compact(day)}-${conversation.id.slice(3)}-${String(++n).padStart(3, '0')}`,
    type: 'chat.message',
    sentAt: zurich(day, time),
    from,
    participants: members.filter((m) => m !== from).map((m) => ({ ...m, role: 'member' as const })),
    conversation,
    body: { text },
    properties: { platform: 'DemoChat', ...(replyTo === undefined ? {} : { replyTo }) },
  });
}

const FX_DESK = { id: 'dc-room-fx-desk', title: 'FX desk — Helvetia AM' };
const ANA_JONAS = { id: 'dc-dm-aruiz-jmeyer', title: 'Ana Ruiz / Jonas Meyer (Alpine Broker)' };
const SETTLEMENTS = { id: 'dc-room-settlements', title: 'Settlements ops' };
const ELIN_GUS = { id: 'dc-dm-eberg-glind', title: 'Elin Berg / Gus Lind' };
const fxMembers = [people.ana, people.bo, people.farid, people.clientDesk];

function chatDay1(day: string): ExportSpec {
  const fx = room(day, FX_DESK, fxMembers);
  const dm = room(day, ANA_JONAS, [people.ana, people.jonas]);
  const ask = fx('09:02:14.310', people.ana, 'Morning all. Helvetia AM asks for a 3-month EUR/CHF forward on 25m, indicative first.');
  const client = fx('09:03:40.120', people.clientDesk, 'Thanks Ana. Value date three months from spot, settlement through our custodian as usual.', ask.id);
  const points = fx('09:04:51.002', people.bo, 'Spot 0.9405 / 0.9410, forward points -41.5 / -40.2. Indicative only.', ask.id);
  const credit = fx('09:06:12.775', people.farid, 'Credit line for Helvetia AM has 40m headroom, 25m is fine.', points.id);
  const offer = dm('11:30:08.000', people.jonas, 'Seeing interest in EUR/CHF 3m from two other names, can show you a level if useful.');
  const covered = dm('11:34:26.500', people.ana, 'Thanks Jonas, we are covered for now.', offer.id);
  return { source: 'demochat', day, entries: { [`items/${day}/chat.ndjson`]: [ask, client, points, credit, offer, covered] } };
}

function chatDay2(day: string): ExportSpec {
  const ops = room(day, SETTLEMENTS, [people.elin, people.dev, people.gus, people.custody]);
  const dm = room(day, ELIN_GUS, [people.elin, people.gus]);
  const booked = ops('10:15:00.000', people.elin, 'Helvetia AM forward is booked; confirmations go out today.');
  const sent = ops('10:41:37.250', people.gus, 'Confirmation is out, custodian SSIs checked against our static data.', booked.id);
  const affirmed = ops('11:02:09.900', people.custody, 'Received, the SSIs match our records. We will affirm by 14:00 CET.', sent.id);
  const done = ops('11:05:44.010', people.dev, 'Thanks, the settlement calendar is updated.', affirmed.id);
  const access = dm('16:20:31.000', people.elin, 'Gus, your directory entry is still pending with IT. Tell me if any access is missing.');
  const items = [booked, sent, affirmed, done, access];
  return { source: 'demochat', day, entries: { [`items/${day}/chat.ndjson`]: items } };
}

function chatDay3(day: string): ExportSpec {
  const fx = room(day, FX_DESK, fxMembers);
  const dm = room(day, ANA_JONAS, [people.ana, people.jonas]);
  const done = fx('09:31:05.400', people.ana, 'Helvetia AM confirmed: 25m EUR/CHF 3m forward done at 0.9368.');
  const confirmed = fx('09:32:10.000', people.clientDesk, 'Confirmed on our side, thank you.', done.id);
  const booked = fx('09:40:22.180', people.bo, 'Booked, the ticket is in the blotter.', done.id);
  const coffee = dm('15:12:48.000', people.jonas, 'Congratulations on the print. Coffee next week?');
  const tuesday = dm('15:20:03.600', people.ana, 'Happy to, Tuesday works.', coffee.id);
  return { source: 'demochat', day, entries: { [`items/${day}/chat.ndjson`]: [done, confirmed, booked, coffee, tuesday] } };
}

export function chatExports(days: DemoDays): ExportSpec[] {
  return [chatDay1(days.d1), chatDay2(days.d2), chatDay3(days.d3)];
}
