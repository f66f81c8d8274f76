// The delivery adapters and their port. Wiring (cli/, server/) calls
// parseTarget once at start-up and createTarget with the result; the core
// sees only MailboxTarget (port.ts).
import type { GraphExtras } from './graph/create.js';
import type { ImapTargetOptions } from './imap/index.js';
import { createMaildirTarget, type MaildirTargetOptions } from './maildir/index.js';
import type { MailboxTarget } from './port.js';
import type { TargetSpec } from './target-spec.js';

export type { DeliveryOutcome, MailboxTarget, OutgoingMessage } from './port.js';
export { DELIVERY_CODES, DeliveryError, isDeliveryCode, isDeliveryError, type DeliveryCode } from './errors.js';
export { parseTarget, IMAP_PASSWORD_ENV, type TargetSpec } from './target-spec.js';
export type { ImapTargetOptions } from './imap/index.js';
export { createMaildirTarget, type MaildirTargetOptions } from './maildir/index.js';

/** Options beyond what `--to` says (TLS material, batch sizes, a logger). */
export interface TargetExtras {
  readonly imap?: Omit<ImapTargetOptions, 'url' | 'password'>;
  readonly maildir?: Omit<MaildirTargetOptions, 'root'>;
  readonly graph?: GraphExtras;
}

/** The IMAP adapter (and imapflow) is loaded only when an IMAP target is asked for: a Maildir import does without its memory. */
export async function createTarget(spec: TargetSpec, extras: TargetExtras = {}): Promise<MailboxTarget> {
  switch (spec.kind) {
    case 'maildir':
      return createMaildirTarget({ ...extras.maildir, root: spec.root });
    case 'imap': {
      const { createImapTarget } = await import('./imap/index.js');
      if (!spec.oauth2) return createImapTarget({ ...extras.imap, url: spec.url, password: spec.password });
      const { appTokens } = await import('./graph/create.js');
      const app = spec.oauth2;
      const tokens = appTokens(app, extras.graph);
      return createImapTarget({ ...extras.imap, url: spec.url, accessToken: () => tokens.token(app.scope) });
    }
    case 'graph': {
      const { graphTarget } = await import('./graph/create.js');
      return graphTarget(spec, extras.graph);
    }
  }
}
