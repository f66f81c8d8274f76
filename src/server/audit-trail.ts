// Appending to the audit trail (ports/account-store.ts): who did what to
// which target, from which address. Details never hold a secret: no
// password, token or configuration value, only names and outcomes.
import type { FastifyRequest } from 'fastify';
import type { Deps } from './deps.js';

export interface AuditFact {
  readonly action: string;
  readonly target: string | null;
  readonly detail?: Readonly<Record<string, unknown>>;
  /** Default: the signed-in account. */
  readonly actor?: string;
}

export async function audit(deps: Deps, request: FastifyRequest, fact: AuditFact): Promise<void> {
  await deps.accounts.audit({
    at: deps.now(),
    actor: fact.actor ?? request.session?.account ?? 'anonymous',
    action: fact.action,
    target: fact.target,
    detail: fact.detail ?? {},
    address: request.ip,
  });
}
