// Media types by file extension, for manifest MimeType attributes (xip-format.md §2)
// and attachments without a contentType (xip-items.md §2). A short table of what
// source platforms export; anything else is application/octet-stream.
const BY_EXTENSION: Readonly<Record<string, string>> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  eml: 'message/rfc822',
  txt: 'text/plain',
  text: 'text/plain',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  xml: 'application/xml',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  ics: 'text/calendar',
  vcf: 'text/vcard',
};

/** Extensions whose content is already compressed: DEFLATE would only cost time. */
const COMPRESSED = new Set(['zip', 'gz', 'png', 'jpg', 'jpeg', 'gif', 'webp', 'mp3', 'm4a', 'mp4', 'mov', 'docx', 'xlsx', 'pptx', 'xz', 'bz2', '7z', 'zst']);

function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

export function mediaTypeFor(name: string): string {
  return BY_EXTENSION[extensionOf(name)] ?? 'application/octet-stream';
}

export function isAlreadyCompressed(name: string): boolean {
  return COMPRESSED.has(extensionOf(name));
}
