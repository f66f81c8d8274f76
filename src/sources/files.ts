// The simplest ContainerSource: files named on the command line, in the order
// given. (Folder, SFTP and Azure Blob sources for scheduled connectors join
// this folder.) Each is opened the way the container reader opens a file
// (xip/verify.ts: openForReading): a FIFO, directory or device is refused at
// once (IO_ERROR), never read from or waited on.
import type { Readable } from 'node:stream';
import type { ContainerRef, ContainerSource } from '../ports/container-source.js';
import { openForReading } from '../xip/verify.js';

export function fileSource(paths: readonly string[]): ContainerSource {
  const refs: ContainerRef[] = paths.map((path) => ({
    name: path,
    open: async (): Promise<Readable> => (await openForReading(path)).createReadStream({ highWaterMark: 1024 * 1024 }),
  }));
  return {
    async *list() {
      yield* refs;
    },
  };
}
