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

/**
 * --database URL, a global option: the same as XIP_DATABASE_URL, for every
 * command that opens the installation. Without a password: a command line
 * is visible to every user of the machine (ps, /proc); the password comes
 * from PGPASSWORD or ~/.pgpass (read by pg), or XIP_DATABASE_URL is used.
 */
function databaseFlag(program: Command, env: NodeJS.ProcessEnv): void {
  program.option('--database <url>', 'the installation\'s PostgreSQL database, postgres://USER@HOST:PORT/DATABASE, as XIP_DATABASE_URL; its password in PGPASSWORD or ~/.pgpass, never here');
  program.hook('preAction', () => {
    const url = program.opts<{ database?: string }>().database;
    if (url === undefined) return;
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol)) program.error('USAGE: --database must be postgres://USER@HOST:PORT/DATABASE', { exitCode: EXIT_USAGE, code: 'USAGE' });
    if (parsed.password !== '') {
      program.error('USAGE: --database must not carry a password (a command line is visible to every user of the machine): put it in PGPASSWORD or ~/.pgpass, or give the whole URL in XIP_DATABASE_URL', { exitCode: EXIT_USAGE, code: 'USAGE' });
    }
    env.XIP_DATABASE_URL = url;
  });
}

export async function main(argv: readonly string[], io: Output = processOutput, processEnv: NodeJS.ProcessEnv = process.env): Promise<number> {
  // A copy: --database sets XIP_DATABASE_URL in it for the command, not in the caller's environment.
  const env = { ...processEnv };
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
  databaseFlag(program, env);
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
