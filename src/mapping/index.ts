export { addressKey, createDirectory, loadDirectory, type Directory, type DirectoryMailbox } from './directory.js';
export { loadMapping, type Mapping } from './mapping.js';
export { mappingOptions, resolveMailboxes, type MailboxResolution, type MappingOptions, type Unmapped } from './resolve.js';
