// Node 20 does not run the parent's --import hooks in a worker thread, so the
// worker registers tsx itself before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
