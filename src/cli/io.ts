// Output for every command: a plain line for people, one JSON object for machines.
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** How a command reports its exit code back to main. */
export type SetExit = (code: number) => void;
