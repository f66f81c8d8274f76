// The `xip` command. Wiring happens here, once: each command is registered
// from its own file and reports an exit code (0 verified/done, 1 rejected,
// 2 usage or I/O).
import { Command, CommanderError } from 'commander';
import { registerConvert } from './convert.js';
import { registerDemo } from './demo.js';
import { EXIT_USAGE } from './exit.js';
import { registerExtract } from './extract.js';
import { registerImport } from './import.js';
import { registerInspect } from './inspect.js';
import { processOutput, type Output } from './io.js';
import { registerPack } from './pack.js';
import { registerVerify } from './verify.js';

export async function main(argv: readonly string[], io: Output = processOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command('xip')
    .description('Verify, pack, extract and inspect XIP containers (signed ZIP archives of source communications).')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError('(run xip --help for the commands)');
  program.addHelpText('after', '\nExit codes: 0 verified (or done), 1 rejected (the code says why), 2 usage or I/O error.');
  registerVerify(program, io, setExit);
  registerPack(program, io, setExit);
  registerExtract(program, io, setExit);
  registerInspect(program, io, setExit);
  registerConvert(program, io, setExit);
  registerImport(program, io, setExit, env);
  registerDemo(program, io, setExit);
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    throw e;
  }
  return exitCode;
}
