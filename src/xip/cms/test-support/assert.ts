// Assertions on coded errors: the code a user would see, and what the detail says.
import assert from 'node:assert/strict';
import { XipError, type ErrorCode } from '../../../errors.js';

export function assertCode(fn: () => unknown, code: ErrorCode, detail?: RegExp): XipError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return checkCode(caught, code, detail);
}

export async function assertCodeAsync(fn: () => Promise<unknown>, code: ErrorCode, detail?: RegExp): Promise<XipError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  return checkCode(caught, code, detail);
}

function checkCode(caught: unknown, code: ErrorCode, detail?: RegExp): XipError {
  assert.ok(caught !== undefined, `expected ${code}, but nothing was thrown`);
  assert.ok(caught instanceof XipError, `expected an XipError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.detail ?? ''}`);
  if (detail) assert.match(caught.detail ?? '', detail);
  return caught;
}
