// A target with faults planted on purpose, for the harness's own tests: an
// input holding CRASH throws a TypeError, HANG loops for ever, LEAK holds
// memory until the worker's heap is exhausted, ESCAPE breaks a property.
// Anything else is fine. Never part of `npm run fuzz`.
import { FuzzViolation, type Target } from '../target.js';

const held: unknown[] = [];

export const target: Target = {
  name: 'planted',
  description: 'faults planted for the harness tests',
  maxLength: 1024,
  dictionary: ['H'],
  async setup() {
    return {
      seeds: [Buffer.from('a CRAS b'), Buffer.from('nothing here')],
      run(input: Buffer): string {
        const text = input.toString('latin1');
        if (text.includes('CRASH')) throw new TypeError('planted crash');
        if (text.includes('ESCAPE')) throw new FuzzViolation('escape', 'planted escape');
        if (text.includes('LEAK')) for (;;) held.push(new Array(1 << 16).fill(held.length));
        if (text.includes('HANG')) for (;;);
        return text.length % 2 === 0 ? 'even' : 'odd';
      },
      async teardown() {},
    };
  },
};
