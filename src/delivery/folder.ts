// The folder setting ("Inbox/XIP", xip-items.md §4) as parts. "/" separates
// levels whatever the target's own separator; INBOX is case-insensitive
// (RFC 3501 §5.1), so its first part is written INBOX.
import { DeliveryError } from './errors.js';

/** Whether the text holds a C0 control character or DEL. */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export function folderParts(folder: string): string[] {
  const parts = folder.split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || hasControl(part)) {
      throw new DeliveryError('FOLDER_INVALID', `folder "${folder}": the part "${part}" is empty, "." or "..", or holds a control character`);
    }
  }
  if (parts[0]!.toUpperCase() === 'INBOX') parts[0] = 'INBOX';
  return parts;
}
