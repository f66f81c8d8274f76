// The library API: the same operations as the command line, typed.
export { ERROR_MESSAGES, isXipCode, isXipError, TOOL_CODES, XIP_CODES, XipError } from './errors.js';
export type { ErrorCode, ToolCode, XipCode } from './errors.js';
export { DEFAULT_ZIP_LIMITS, resolveZipLimits } from './limits.js';
export type { ZipLimits } from './limits.js';
export { loadPrivateKey, parseCertificates, parseCrls } from './xip/cms/index.js';
export type { CertInfo, Crl, X509 } from './xip/cms/index.js';
export { extractFile } from './xip/extract.js';
export type { ExtractOptions, ExtractResult } from './xip/extract.js';
export { inspectFile } from './xip/inspect.js';
export type { InspectReport } from './xip/inspect.js';
export { issueSigningIdentity } from './xip/keys.js';
export type { IdentityOptions, IssuedIdentity, KeyAlgorithm } from './xip/keys.js';
export { parseManifest, writeManifest } from './xip/manifest.js';
export type { Manifest, ManifestReference, PackageInfo } from './xip/manifest.js';
export { packDirectory } from './xip/pack.js';
export type { PackOptions, PackResult } from './xip/pack.js';
export { verifyFile, verifyHandle } from './xip/verify.js';
export type { VerifiedArchive, VerifiedEntry, VerifyOptions, VerifyReport } from './xip/verify.js';
