// Assertions on the XipError a crafted archive must produce.
import assert from 'node:assert/strict';
import { XipError, type ErrorCode } from '../../../errors.js';
import type { ZipLimits } from '../../../limits.js';
import { openError } from './files.js';
import { buildZip, type ArchiveSpec } from './zip-builder.js';

export interface Expected {
  readonly entry?: string;
  readonly detail?: RegExp;
}

export function assertXipError(error: unknown, code: ErrorCode, expected: Expected = {}): asserts error is XipError {
  assert.ok(error instanceof XipError, `expected a XipError, got ${String(error)}`);
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.detail ?? ''}`);
  if (expected.entry !== undefined) assert.equal(error.entry, expected.entry);
  if (expected.detail) assert.match(error.detail ?? '', expected.detail);
}

/** openZip refuses the archive built from `spec` with `code`. */
export async function rejects(
  spec: ArchiveSpec | Buffer,
  code: ErrorCode,
  expected: Expected = {},
  limits: Partial<ZipLimits> = {},
): Promise<XipError> {
  const error = await openError(Buffer.isBuffer(spec) ? spec : buildZip(spec), limits);
  assertXipError(error, code, expected);
  return error;
}
