// Every command line imapflow sends, through its logger: the hook tests use to
// count APPENDs and see which login and commands went out.
import type { ImapTargetOptions } from '../index.js';

export function commandLog(): { lines: string[]; logger: NonNullable<ImapTargetOptions['logger']> } {
  const lines: string[] = [];
  const ignore = (): void => undefined;
  return {
    lines,
    logger: {
      debug: (o: { src?: string; msg?: string }) => {
        if (o.src === 'c' && typeof o.msg === 'string') lines.push(o.msg);
      },
      info: ignore,
      warn: ignore,
      error: ignore,
    },
  };
}
