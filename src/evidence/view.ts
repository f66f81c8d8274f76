// What is known of a file of the evidence store, as `xip evidence list` and
// `show --json` print it and the API (GET /api/evidence…) answers it: one
// mapping, so that an auditor reads the same fields in both.
import type { EvidenceRow } from '../ports/connector-store.js';

/** A stored file: open until a run reaches a final verdict on it, then imported or rejected. */
export function evidenceJson(r: EvidenceRow) {
  return {
    sha256: r.sha256,
    size: r.size,
    storedAt: r.storedAt.toISOString(),
    firstConnector: r.firstConnector,
    firstName: r.firstName,
    verdict: r.doneRunId === null ? ('open' as const) : r.ok ? ('imported' as const) : ('rejected' as const),
    code: r.code,
    processedInRun: r.doneRunId,
  };
}

export type EvidenceJson = ReturnType<typeof evidenceJson>;

/** The ledger's verdict on the container (Ledger.getContainer). */
export interface ContainerVerdict {
  readonly ok: boolean;
  readonly code: string | null;
  readonly firstSeen: Date;
}

/** One file: its row, whether its bytes still hash to its name, and the ledger's verdict on it as a container. */
export function evidenceDetailJson(row: EvidenceRow, intact: boolean, container: ContainerVerdict | undefined) {
  return { ...evidenceJson(row), intact, container: container ? { ok: container.ok, code: container.code, firstSeen: container.firstSeen.toISOString() } : null };
}
