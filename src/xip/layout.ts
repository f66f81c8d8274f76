// The container's fixed names (xip-format.md §1).
export const MIMETYPE = 'application/vnd.etsi.asic-e+zip';
/** The names this writer uses. */
export const MANIFEST_NAME = 'META-INF/ASiCManifest.xml';
export const SIGNATURE_NAME = 'META-INF/signature.p7s';
/** The names a reader accepts (§1): exactly one of each. */
export const MANIFEST_PATTERN = /^META-INF\/ASiCManifest[^/]*\.xml$/;
export const SIGNATURE_PATTERN = /^META-INF\/signature[^/]*\.p7s$/;

/** Data entries are everything but `mimetype` and `META-INF/`. */
export function isDataEntryName(name: string): boolean {
  return name !== 'mimetype' && !name.startsWith('META-INF/');
}
