// The catalogue of stable error codes. The XIP codes are those of
// docs/xip-format.md §5; each has a sentence a person can act on.
// Codes never change once published: they appear in CLI output, logs, the
// ledger and the API. Map them to exit codes in exactly one place (cli/exit.ts).

export const XIP_CODES = {
  ZIP_MALFORMED: 'The file is not a well-formed ZIP archive (it may be truncated or corrupted); ask the source to send it again.',
  ZIP_UNSUPPORTED: 'The ZIP archive uses a feature XIP does not allow (several disks, or a compression method other than STORED or DEFLATE).',
  ZIP_EXTRA_DATA: 'The ZIP archive has bytes outside its entries (a prefix, trailing data, a gap or an archive comment); it may have been tampered with.',
  ZIP_ENCRYPTED: 'An entry of the ZIP archive is encrypted; XIP containers must not be encrypted.',
  ZIP_UNSAFE_PATH: 'An entry name is unsafe (empty, absolute, with a drive letter, a backslash, a "." or ".." segment, a control character, or not valid UTF-8).',
  ZIP_DUPLICATE_ENTRY: 'Two entries have the same name once Unicode-normalised and case-folded.',
  ZIP_SPECIAL_ENTRY: 'An entry is a symbolic link, device or other special file; only regular files and directories are allowed.',
  ZIP_HEADER_MISMATCH: "An entry's local header disagrees with its central directory record; the archive may have been tampered with.",
  ZIP_OVERLAP: "Entries' byte ranges overlap each other or the central directory (a ZIP bomb or tampering).",
  ZIP_LIMIT: 'The archive exceeds a reader limit (entry count, total uncompressed size or compression ratio); raise the limit only if you trust the sender.',
  MIMETYPE_MISSING: 'The container has no "mimetype" entry; it is not an ASiC-E/XIP container.',
  MIMETYPE_INVALID: 'The "mimetype" entry does not hold exactly "application/vnd.etsi.asic-e+zip".',
  MANIFEST_MISSING: 'The container has no META-INF/ASiCManifest*.xml manifest.',
  MANIFEST_INVALID: 'The manifest does not parse or does not follow the XIP manifest rules.',
  SIGNATURE_MISSING: 'The signature the manifest refers to is not in the container.',
  SIGNATURE_FORMAT_UNSUPPORTED: 'The container uses a signature format that XIP version 1 does not support (several signatures or manifests, XAdES, time-stamp-only or archive manifests).',
  SIGNATURE_INVALID: 'The signature does not verify over the manifest: the manifest or signature was altered, or the signature is malformed.',
  CERT_UNTRUSTED: "The signer's certificate does not chain to a certificate in the trust store; add the source's CA with --trust if you trust it.",
  CERT_EXPIRED: 'A certificate of the chain had expired at the validation time.',
  CERT_NOT_YET_VALID: 'A certificate of the chain was not yet valid at the validation time.',
  CERT_REVOKED: 'A certificate of the chain is revoked by a CRL you supplied.',
  CERT_USAGE: "The signer certificate's key usage allows neither digitalSignature nor nonRepudiation.",
  TIMESTAMP_INVALID: 'The signature time-stamp token does not verify against the trust store.',
  ENTRY_UNSIGNED: 'A data entry is not listed in the manifest, so it is not covered by the signature.',
  ENTRY_MISSING: 'An entry listed in the manifest is not in the container.',
  DIGEST_MISMATCH: "An entry's digest differs from the manifest's: its content was altered after signing.",
} as const;

export type XipCode = keyof typeof XIP_CODES;

// Verdicts on one item or on the message made from it (xip-items.md §2–3),
// never on the container: the other items go on.
export const ITEM_CODES = {
  ITEM_JSON: 'An item is not valid JSON in UTF-8 (a .json entry, or one line of an .ndjson entry); fix the export that wrote it.',
  ITEM_INVALID: 'An item breaks a rule of xip-items.md §2; the detail names the field and the rule.',
  ITEM_ATTACHMENT_MISSING: 'An attachment path of an item names no entry of the container, so the attachment cannot be imported.',
  ITEM_TOO_LARGE: 'An item (a .json entry, an .ndjson line or an .eml header block) is larger than the maxItemBytes limit; raise the limit if the host has the memory.',
  ITEM_TOO_DEEP: 'An item (a .json entry or an .ndjson line) nests arrays and objects more deeply than the maxItemDepth limit (128 by default); it is not imported and the other items go on. Ask the source to flatten its properties.',
  XIP_JSON_INVALID: 'The xip.json entry is not a JSON object with a string "source"; the source name, and so every Message-ID, cannot be derived from it.',
  ITEM_UNMAPPED: 'No participant of the item maps to a mailbox of the directory and no catch-all mailbox is set, so the item is not archived; add the users to the directory or a custom mapping, or name a catch-all mailbox.',
  ATTACHMENT_SIZE_MISMATCH: 'An entry yielded a different number of bytes than the container declared for it; the container reader is faulty, and the message was not completed.',
  ITEM_DUPLICATE_ID: 'A second item of the container has the id of an item already read from it (so the same Message-ID); only the first is imported. Ask the source to give every item its own id.',
  ITEM_COUNT_MISMATCH: 'The container declares another number of items (the manifest\'s xip:Package items, or xip.json\'s "items") than were read from it; the items read were imported. Ask the source whether its export is complete.',
} as const;

export type ItemCode = keyof typeof ITEM_CODES;

// Verdicts on one copy of one message delivered into a mailbox (a failed
// delivery outcome), or on a target as a whole when a DeliveryError is thrown.
export const DELIVERY_CODES = {
  MAILBOX_NOT_FOUND: 'The mailbox does not exist on the target, or the administrative identity may not act for it; add it to the mail server (or fix the directory) and import again.',
  FOLDER_INVALID: 'The folder name cannot be used on this target (empty, or a part is empty, ".", "..", starts with "~", or holds the hierarchy separator or a control character); choose another folder name.',
  MESSAGE_TOO_LARGE: "The message is larger than the target accepts (the server's APPENDLIMIT, or its maximum message size); raise the server's limit if the message should be kept, and import again.",
  MESSAGE_INVALID: 'The message could not be produced as declared (its byte stream failed, or yielded another size than declared); this is a fault of the connector or its staging area, not of the target: report it with the run log.',
  STORAGE_FULL: "The target's storage or the mailbox's quota is full; free space or raise the quota, and import again: the copies that failed are retried.",
  TARGET_AUTH_FAILED: 'The target refused the administrative identity: check the user in --to and XIP_IMAP_PASSWORD, and that this identity may act for other mailboxes (SASL authorization or a Dovecot master user).',
  TARGET_UNAVAILABLE: 'The target could not be reached or kept failing after retries (network, server down, or a directory that cannot be written); fix the cause and run the import again: what was delivered is not delivered twice.',
  TARGET_REJECTED: 'The target refused the message for a reason it gave (quoted in the detail); check the server log for that mailbox.',
} as const;

export type DeliveryCode = keyof typeof DELIVERY_CODES;

// Codes of this project beyond the spec's: usage and environment problems,
// never a verdict on a container.
export const TOOL_CODES = {
  USAGE: 'The command was called wrongly; see --help.',
  IO_ERROR: 'A file could not be read or written.',
  KEY_INVALID: 'The signing key or certificate cannot be used (unreadable, unsupported algorithm, too weak, or they do not match).',
  TRUST_INVALID: 'A trust store or CRL file could not be read as PEM or DER certificates/CRLs.',
  PACK_INPUT_INVALID: 'A file under the directory to pack cannot become a data entry (not a regular file, an unsafe or reserved name, or it changed while being packed).',
  EXTRACT_TARGET_EXISTS: 'A file to be extracted already exists in the destination; nothing was overwritten.',
  EXTRACT_OUTSIDE: 'A path would be written outside the destination (through a symbolic link); nothing was written there.',
  DEMO_DIR_IN_USE: 'The folder given to xip demo is not one it may fill (a file, a link, or a folder holding files the demo did not make); no file the demo did not make was removed. Give a new or empty folder with --dir, or move those files away.',
  PACK_OUTPUT_EXISTS: 'Something is already at the output path of xip pack; nothing was replaced. Give --force to replace a regular file (a folder, device, link or other special file is never replaced), or choose another path.',
} as const;

export type ToolCode = keyof typeof TOOL_CODES;

// The organisation's side of an import (xip-items.md §4): the directory and
// custom mapping files, the catch-all mailbox, and the ledger that records
// what was delivered. Faults of the setup, never a verdict on a container.
export const MAPPING_CODES = {
  DIRECTORY_INVALID: 'The directory file breaks a rule of xip-items.md §4 (its header, an email address, an alias, a litigationHold value, or an address listed twice); the detail names the line and the rule. Fix the file and import again.',
  DIRECTORY_UNAVAILABLE: "The directory could not be read from its service (Microsoft Graph's users): the detail says why — the app's credentials, the User.Read.All permission or its admin consent, or the network. Nothing was imported; fix the cause and run again.",
  MAPPING_INVALID: 'The custom mapping file breaks a rule (its header, an empty or repeated sourceId, or a mailbox that is not an address or alias of the directory), or the catch-all mailbox is not in the directory; the detail names the line and the rule.',
} as const;

export type MappingCode = keyof typeof MAPPING_CODES;

export const LEDGER_CODES = {
  LEDGER_ERROR: 'The ledger database could not be opened, migrated, read or written (a path that cannot be opened, a file that is not a ledger or is corrupt, a full disk, or a schema newer than this version); the detail says which. Nothing was recorded by the failed step: fix the cause and run again.',
} as const;

export type LedgerCode = keyof typeof LEDGER_CODES;

// Verdicts on an import run as a whole.
export const RUN_CODES = {
  LEASE_LOST: 'The run could not renew its lease in the ledger in time (the process was paused, or the ledger could not be written), so another run may have taken its work over; it stopped sending. Run the import again: copies it may have sent are looked up in the target first.',
  RUN_FAILED: 'The run stopped on an unexpected fault; the detail says which. What was delivered is recorded; run the import again.',
} as const;

export type RunCode = keyof typeof RUN_CODES;

// A connector's source (a folder, SFTP, Azure Blob) and its configuration.
export const SOURCE_CODES = {
  SOURCE_UNREACHABLE: 'The source could not be reached (connection refused or timed out, name not resolved, server down); the run failed and nothing was fetched. It is tried again at the next scheduled run, or with xip connector run NAME.',
  SOURCE_AUTH_FAILED: "The source refused the connector's credentials (SFTP user, password or private key; Azure account key or SAS); fix them with xip connector edit NAME.",
  SOURCE_HOST_KEY_MISMATCH: "The SFTP server's host key is not the one pinned in the connector (--host-key): the server was replaced or someone is in between. Nothing was fetched. Check the key with the server's administrator (ssh-keygen -lf on its host key) and pin the new one with xip connector edit NAME --host-key.",
  SOURCE_NOT_FOUND: 'The folder, remote path or blob container the source names does not exist or cannot be listed; fix it with xip connector edit NAME --source.',
  SOURCE_READ_FAILED: 'A file broke off while it was being fetched from the source (connection lost, server stopped, file removed); it was not processed and is fetched again at the next run.',
} as const;

export type SourceCode = keyof typeof SOURCE_CODES;

// Connectors as configured objects, their secrets and evidence.
export const CONNECTOR_CODES = {
  CONFIG_INVALID: 'The connector configuration breaks a rule; the detail names the field and what to fix.',
  CONNECTOR_EXISTS: 'A connector of that name already exists; names are unique. Choose another name, or change it with xip connector edit.',
  CONNECTOR_NOT_FOUND: 'There is no connector of that name; xip connector list shows them.',
  CONNECTOR_BUSY: 'A run of this connector is already in progress (in this or another process); this one did not start. Nothing is lost: the run in progress, or the next one, takes every new file.',
  CONNECTOR_PAUSED: 'The connector is paused; resume it with xip connector resume NAME.',
  SLOT_TAKEN: 'Another worker (xip serve on the same database) claimed this scheduled run first and starts it; this worker did not. Nothing to do: each scheduled run starts once across the workers, and xip connector runs NAME shows it.',
  SECRET_KEY_INVALID: 'The secret key (XIP_SECRET_KEY, or keys/secret.key under XIP_HOME) is malformed, or is not the key the secrets were stored with; restore the key the installation was set up with.',
  EVIDENCE_NOT_FOUND: 'No file with that SHA-256 is in the evidence store; xip evidence list shows what is there.',
  EVIDENCE_CORRUPT: 'A file of the evidence store no longer has the SHA-256 it is named by: it was altered on disk. Restore it from a backup of XIP_HOME.',
} as const;

export type ConnectorCode = keyof typeof CONNECTOR_CODES;

// Accounts of the web console and the HTTP API (xip user, ports/account-store.ts).
export const ACCOUNT_CODES = {
  ACCOUNT_EXISTS: 'An account of that name already exists; names are unique. Choose another name, or change that account with xip user passwd, role, disable or enable.',
  ACCOUNT_NOT_FOUND: 'There is no account of that name; xip user list shows them.',
  ACCOUNT_SSO: 'This account signs in through single sign-on only: it gets no password here, so that disabling it at the identity provider keeps it out.',
} as const;

export type AccountCode = keyof typeof ACCOUNT_CODES;

// Single sign-on with OpenID Connect (xip serve --oidc-issuer, src/server/oidc/).
// A sign-in refused at the callback sends the browser to /login?error=CODE.
export const SSO_CODES = {
  SSO_DISCOVERY_FAILED: "The OpenID Provider's metadata could not be read, or does not match --oidc-issuer: check the URL (Microsoft Entra ID: https://login.microsoftonline.com/TENANT-ID/v2.0, with the tenant's id) and that this host reaches it over HTTPS.",
  SSO_STATE_INVALID: 'This single sign-on answer belongs to no sign-in started here: it is too old, was used already, or comes from another browser. Start again from the sign-in page.',
  SSO_FAILED: "The identity provider's answer failed a check (its code was refused, or the ID token's signature, issuer, audience, nonce or time is wrong); nothing was signed in. Start again; if it persists, the server's log says which check failed.",
  SSO_NO_ROLE: "None of the account's groups is given a role here (xip serve --oidc-role-map): ask an administrator to add the account to a group that is.",
  SSO_GROUPS_OVERAGE: 'The account is in too many groups for the ID token to list them (more than 200 in Microsoft Entra ID); emit only the groups assigned to the application (token configuration) and try again.',
  SSO_NAME_INVALID: 'The identity provider gave no name usable for an account (preferred_username or email: 1 to 64 letters, digits, ".", "_", "-" or "@").',
  SSO_ACCOUNT_DISABLED: 'The account is disabled here; xip user enable NAME lets it sign in again.',
} as const;

export type SsoCode = keyof typeof SSO_CODES;

// Answers of the HTTP API (src/server/) that nothing else gives: sessions,
// roles, CSRF, limits, and requests that do not match the API. Their HTTP
// statuses, and those of the other codes that reach HTTP, are in one map:
// src/server/errors.ts.
export const HTTP_CODES = {
  AUTH_REQUIRED: 'Sign in first (POST /api/session): the request has no session, or its session expired or was signed out.',
  AUTH_FAILED: 'The account name or the password is wrong, or the account is disabled.',
  FORBIDDEN: "The account's role does not allow this; a connector-admin can change roles with xip user role.",
  CSRF_INVALID: 'The x-csrf-token header is missing or does not match the session; nothing was changed. Reload the console (GET /api/session gives a fresh token) and try again.',
  SETUP_TOKEN_INVALID: 'The setup token is wrong or was used already, or an account exists already; while there is no account, xip serve prints a fresh token when it starts.',
  NOT_FOUND: 'There is nothing at this address; /openapi.json lists what the API has.',
  RATE_LIMITED: 'Too many attempts: wait the number of seconds the Retry-After header gives, then try again.',
  VALIDATION_FAILED: 'The request does not match the API: the message names each field at fault and its rule.',
  MEDIA_TYPE_UNSUPPORTED: 'Send the body as JSON, with the header Content-Type: application/json.',
  BODY_TOO_LARGE: 'The body is larger than the server accepts.',
  INTERNAL_ERROR: 'The server failed on its side; its log says why. Try again, and report it with the log if it persists.',
} as const;

export type HttpCode = keyof typeof HTTP_CODES;

export type ErrorCode = XipCode | ItemCode | DeliveryCode | ToolCode | MappingCode | LedgerCode | RunCode | SourceCode | ConnectorCode | AccountCode | SsoCode | HttpCode;

export const ERROR_MESSAGES: Readonly<Record<ErrorCode, string>> = { ...XIP_CODES, ...ITEM_CODES, ...DELIVERY_CODES, ...TOOL_CODES, ...MAPPING_CODES, ...LEDGER_CODES, ...RUN_CODES, ...SOURCE_CODES, ...CONNECTOR_CODES, ...ACCOUNT_CODES, ...SSO_CODES, ...HTTP_CODES };

export function isXipCode(code: string): code is XipCode {
  return Object.hasOwn(XIP_CODES, code);
}

export function isItemCode(code: string): code is ItemCode {
  return Object.hasOwn(ITEM_CODES, code);
}

export function isDeliveryCode(code: string): code is DeliveryCode {
  return Object.hasOwn(DELIVERY_CODES, code);
}

/** An error with a stable code. `detail` says what was found; `entry` names the entry at fault. */
export class XipError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly entry: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { entry?: string | undefined; cause?: unknown }) {
    super(detail ? `${detail}` : ERROR_MESSAGES[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'XipError';
    this.code = code;
    this.detail = detail;
    this.entry = options?.entry;
  }

  /** The catalogue sentence followed by what was found: what a person reads. */
  get explanation(): string {
    return this.detail ? `${ERROR_MESSAGES[this.code]} (${this.detail})` : ERROR_MESSAGES[this.code];
  }
}

export function isXipError(e: unknown): e is XipError {
  return e instanceof XipError;
}
