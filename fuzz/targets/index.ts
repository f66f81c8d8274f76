import type { Target } from '../target.js';
import { containerTarget } from './container.js';
import { csvTarget } from './csv.js';
import { itemsTarget } from './items.js';
import { manifestTarget } from './manifest.js';
import { signedTarget } from './signed.js';

export const TARGETS: Readonly<Record<string, Target>> = Object.freeze({
  container: containerTarget,
  signed: signedTarget,
  manifest: manifestTarget,
  items: itemsTarget,
  csv: csvTarget,
});
