// Where a mailbox and a folder live in a Maildir++ tree, exactly as Dovecot
// reads it with `mail_location = maildir:ROOT/%u` (the default LAYOUT=maildir++):
//
//   ROOT/<address>/{cur,new,tmp}                   INBOX
//   ROOT/<address>/.INBOX.XIP/{cur,new,tmp}        INBOX/XIP, with an empty `maildirfolder`
//
// The hierarchy separator on disk is "."; our folder setting uses "/". Each
// part is written in modified UTF-7 as Dovecot does (mailbox_list_utf8 = no).
import { join } from 'node:path';
import { DeliveryError } from '../errors.js';
import { folderParts, hasControl } from '../folder.js';
import { encodeMutf7 } from './mutf7.js';

/**
 * The directory name of a mailbox under ROOT, or undefined when the address
 * cannot be one. Lower-cased because Dovecot's default `auth_username_format
 * = %Lu` lower-cases the login name before `%u` is expanded.
 */
export function mailboxDirName(address: string): string | undefined {
  const name = address.trim().toLowerCase();
  if (name === '' || name === '.' || name === '..' || name.startsWith('.')) return undefined;
  if (/[/\\]/.test(name) || hasControl(name) || Buffer.byteLength(name) > 255) return undefined;
  return name;
}

/** The parts of a folder setting, each of which must also be a Maildir++ name. */
export function maildirFolderParts(folder: string): string[] {
  const parts = folderParts(folder);
  for (const part of parts) {
    if (part.startsWith('~') || part.includes('.')) {
      throw new DeliveryError('FOLDER_INVALID', `folder "${folder}": the part "${part}" cannot be a Maildir++ folder name ("." is the hierarchy separator on disk, "~" a home directory)`);
    }
  }
  return parts;
}

/** The folder's directory relative to the mailbox directory: "" for INBOX itself, else ".INBOX.XIP". */
export function folderDirName(folder: string): string {
  const parts = maildirFolderParts(folder);
  if (parts.length === 1 && parts[0] === 'INBOX') return '';
  return '.' + parts.map(encodeMutf7).join('.');
}

export interface FolderPaths {
  /** ROOT/<address> */
  readonly mailboxDir: string;
  /** The folder's Maildir (holds cur/, new/, tmp/). */
  readonly dir: string;
  /** The folder's directory name relative to mailboxDir, "" for INBOX; the first part of a ref. */
  readonly relative: string;
}

export function folderPaths(root: string, mailboxDirectory: string, folder: string): FolderPaths {
  const mailboxDir = join(root, mailboxDirectory);
  const relative = folderDirName(folder);
  return { mailboxDir, dir: relative === '' ? mailboxDir : join(mailboxDir, relative), relative };
}
