// The demo's DemoSocial posts and comments, and the DemoCollab document
// shared with its large attachment (see exports.ts for how threads and
// replies are written).
import type { DemoDays, DemoItem, ExportSpec, Role } from './exports.js';
import { people, type DemoParty } from './people.js';

const compact = (day: string) => day.replaceAll('-', '');
const to = (...parties: DemoParty[]) => parties.map((p) => ({ ...p, role: 'to' as Role }));
const member = (...parties: DemoParty[]) => parties.map((p) => ({ ...p, role: 'member' as Role }));

/** Items of one DemoSocial day: a post opens a thread (its conversation), comments join the thread of what they answer. */
function socialDay(day: string) {
  let n = 0;
  const thread = new Map<string, { id: string; title: string }>();
  const item = (type: 'post' | 'comment', time: string, from: DemoParty, text: string, more: { parent?: DemoItem; title?: string; participants?: DemoItem['participants'] }): DemoItem => {
    const id = `ds-${compact(day)}-${String(++n).padStart(3, '0')}`;
    const conversation = more.parent === undefined ? { id: `ds-thread-${id.slice(3)}`, title: more.title ?? text } : thread.get(more.parent.id)!;
    thread.set(id, conversation);
    return {
      id,
      type,
      sentAt: `${day}T${time}Z`,
      from,
      ...(more.participants === undefined ? {} : { participants: more.participants }),
      conversation,
      body: { text },
      properties: { platform: 'DemoSocial', page: 'Corp Example', visibility: 'public', ...(more.parent === undefined ? {} : { replyTo: more.parent.id }) },
    };
  };
  return {
    post: (time: string, from: DemoParty, title: string, text: string) => item('post', time, from, text, { title }),
    comment: (time: string, from: DemoParty, parent: DemoItem, text: string, participants: DemoItem['participants']) => item('comment', time, from, text, { parent, participants }),
  };
}

function socialDay1(day: string): ExportSpec {
  const s = socialDay(day);
  const outlook = s.post('07:30:00.000', people.carla, 'Corp Example: Q4 market outlook', 'Our Q4 market outlook is live: rates, FX and what we expect for Swiss exporters.');
  const question = s.comment('08:12:45.000', people.lena, outlook, 'Great read. Will you publish the FX section as a separate note?', to(people.carla));
  const answer = s.comment('08:40:19.000', people.anaSocial, question, 'Yes, Lena: the FX note follows next week.', [...to(people.lena), ...member(people.carla)]);
  const proud = s.post('17:05:33.000', people.anaSocial, 'Zero settlement breaks', 'Proud of the team: our FX desk closed the month with zero settlement breaks.');
  return { source: 'demosocial', day, entries: { [`items/${day}/posts.ndjson`]: [outlook, question, answer, proud] } };
}

/** The export that is tampered with after signing: one digit of the first post. */
function socialDay3(day: string): ExportSpec {
  const s = socialDay(day);
  const reach = s.post('08:00:00.000', people.carla, 'Outlook series: thank you', 'Engagement with our outlook series is up 12% this quarter. Thank you for reading.');
  const reply = s.comment('09:26:51.000', people.lena, reach, 'Looking forward to the next one.', to(people.carla));
  const thanks = s.comment('09:45:10.000', people.carla, reply, 'Thanks Lena, it is out in January.', to(people.lena));
  const entry = `items/${day}/posts.ndjson`;
  return { source: 'demosocial', day, entries: { [entry]: [reach, reply, thanks] }, tamper: { entry, find: 'up 12%', replace: 'up 72%' } };
}

export function socialExports(days: DemoDays): ExportSpec[] {
  return [socialDay1(days.d1), socialDay3(days.d3)];
}

const DOCUMENT = { id: 'dx-doc-7f3a9c', title: 'Q4 trade blotter (reconciled)' };

/**
 * A document shared with its file: the blotter CSV, about 12 MiB, larger on
 * purpose than the 10 MB a commercial archiving service accepts per message,
 * so the demo shows this connector taking what that service refuses.
 */
export function collabExport(days: DemoDays): ExportSpec {
  const day = days.d2;
  const blotter = `attachments/${day}/q4-trade-blotter.csv`;
  const shared: DemoItem = {
    conversation: DOCUMENT,
    id: `${DOCUMENT.id}-v3`,
    type: 'document',
    sentAt: `${day}T14:05:12.000+01:00`,
    from: people.elin,
    participants: member(people.bo, people.dev, people.rita),
    subject: 'Q4 trade blotter (reconciled), version 3',
    body: {
      text: 'Elin Berg shared version 3 of the reconciled Q4 trade blotter with Bo Chen, Dev Patel and Rita Weber (Audit Partners, read only).',
      html: '<p>Elin Berg shared <b>version 3</b> of the reconciled Q4 trade blotter with Bo Chen, Dev Patel and Rita Weber (Audit Partners, read only).</p>',
    },
    attachments: [{ path: blotter, name: 'Q4 trade blotter (reconciled).csv', contentType: 'text/csv; charset=utf-8' }],
    properties: { platform: 'DemoCollab', workspace: 'Markets operations', version: '3' },
  };
  const check: DemoItem = {
    conversation: DOCUMENT,
    id: `${DOCUMENT.id}-c001`,
    type: 'comment',
    sentAt: `${day}T14:31:40.000+01:00`,
    from: people.bo,
    participants: [...to(people.elin), ...member(people.dev, people.rita)],
    body: { text: 'The FX rows match the desk tickets, including the Helvetia AM forward.' },
    properties: { platform: 'DemoCollab', replyTo: shared.id },
  };
  const sample: DemoItem = {
    conversation: DOCUMENT,
    id: `${DOCUMENT.id}-c002`,
    type: 'comment',
    sentAt: `${day}T15:02:07.000+01:00`,
    from: people.rita,
    participants: [...to(people.elin), ...member(people.bo)],
    body: { text: 'Thanks. We will sample 25 trades from this version for the year-end audit.' },
    properties: { platform: 'DemoCollab', replyTo: check.id },
  };
  return {
    source: 'democollab',
    day,
    entries: { [`items/${day}/document-7f3a9c.json`]: [shared], [`items/${day}/comments.ndjson`]: [check, sample] },
    generated: { [blotter]: 'trade-blotter' },
  };
}
