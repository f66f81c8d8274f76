// Stage and verify: the container is copied privately and verified
// (xip/container.ts) before a byte of it is read as items; its source name
// and declared item count are resolved. A rejected container, or one whose
// xip.json cannot be read, is a failed line of the run log and a verdict in
// the ledger: the run goes on with the next container.
import { XipError } from '../errors.js';
import { resolveSource } from '../items/index.js';
import type { ContainerRef } from '../ports/container-source.js';
import { openVerifiedContainer, RejectedContainer, type OpenedContainer, type StageOptions } from '../xip/container.js';
import type { RunContext } from './context.js';

export interface StagedContainer {
  readonly file: string;
  readonly container: OpenedContainer;
  readonly source: string;
  readonly declaredItems: number | undefined;
}

export async function stageContainer(ctx: RunContext, ref: ContainerRef, verify: StageOptions, connectorName: string): Promise<StagedContainer | undefined> {
  const file = ref.name;
  let container: OpenedContainer;
  try {
    container = await openVerifiedContainer(ref, verify);
  } catch (e) {
    if (!(e instanceof XipError)) throw e;
    const sha256 = e instanceof RejectedContainer ? (e.sha256 ?? null) : null;
    await reject(ctx, file, sha256, e);
    return undefined;
  }
  try {
    const { source, declaredItems } = await resolveSource(container, { connectorName });
    await ctx.ledger.recordContainer({
      sha256: container.sha256,
      file,
      ok: true,
      signerSubject: container.signer.subject,
      signerSha256: container.signer.sha256,
      source,
      itemsDeclared: declaredItems,
      runId: ctx.runId,
    });
    return { file, container, source, declaredItems };
  } catch (e) {
    await container.close();
    if (!(e instanceof XipError) || e.code === 'LEDGER_ERROR') throw e;
    // Its signature verified before its xip.json failed: the signer is known.
    await reject(ctx, file, container.sha256, e, container.signer.subject);
    return undefined;
  }
}

async function reject(ctx: RunContext, file: string, sha256: string | null, e: XipError, signer?: string): Promise<void> {
  ctx.recorder.emit({ kind: 'container', line: { file, sha256, ok: false, code: e.code, message: e.explanation, ...(signer !== undefined ? { signer } : {}) } });
  if (sha256) await ctx.ledger.recordContainer({ sha256, file, ok: false, code: e.code, message: e.explanation, runId: ctx.runId });
}
