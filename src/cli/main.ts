// The `xip` command. Wiring happens here, once: each command is registered
// from its own file and reports an exit code (0 verified/done, 1 rejected,
// 2 usage or I/O). Only the module of the command being run is loaded (all of
// them for --help), so that a run holds no code it does not use.
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE } from './exit.js';
import { processOutput, type Output, type SetExit } from './io.js';

type Register = (program: Command, io: Output, setExit: SetExit, env: NodeJS.ProcessEnv) => void;

const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  verify: async () => (await import('./verify.js')).registerVerify,
  pack: async () => (await import('./pack.js')).registerPack,
  extract: async () => (await import('./extract.js')).registerExtract,
  inspect: async () => (await import('./inspect.js')).registerInspect,
  convert: async () => (await import('./convert.js')).registerConvert,
  import: async () => (await import('./import.js')).registerImport,
  demo: async () => (await import('./demo.js')).registerDemo,
  connector: async () => (await import('./connector.js')).registerConnector,
  evidence: async () => (await import('./evidence.js')).registerEvidence,
  serve: async () => (await import('./serve.js')).registerServe,
  user: async () => (await import('./user.js')).registerUser,
  status: async () => (await import('./status.js')).registerStatus,
};

export async function main(argv: readonly string[], io: Output = processOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command('xip')
    .description('Verify, pack, extract, inspect, convert and import XIP containers (signed ZIP archives of source communications).')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(...s.replace(/\n$/, '').split('\n')), writeErr: (s) => io.err(...s.replace(/\n$/, '').split('\n')) })
    .showHelpAfterError('(run xip --help for the commands)');
  program.addHelpText('after', '\nExit codes: 0 verified (or done), 1 rejected (the code says why), 2 usage or I/O error.');
  const name = argv[2];
  const wanted = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  for (const command of wanted) (await COMMANDS[command]!())(program, io, setExit, env);
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
