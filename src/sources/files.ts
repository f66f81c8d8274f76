// The simplest ContainerSource: files named on the command line, in the order
// given. (Folder, SFTP and Azure Blob sources for scheduled connectors join
// this folder.)
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ContainerRef, ContainerSource } from '../ports/container-source.js';

export function fileSource(paths: readonly string[]): ContainerSource {
  const refs: ContainerRef[] = paths.map((path) => ({
    name: path,
    open: (): Promise<Readable> =>
      // Resolves once the file is open, so that a missing file is the open's error, not the stream's.
      new Promise((resolve, reject) => {
        const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
        stream.once('open', () => resolve(stream));
        stream.once('error', reject);
      }),
  }));
  return {
    async *list() {
      yield* refs;
    },
  };
}
