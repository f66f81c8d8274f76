// Faults a test arms on a contract double of Microsoft Graph: the next N
// matching requests answer as the rule says, or lose their connection —
// before the body is read ('before-store': nothing happened) or after the
// request was carried out ('after-store': e.g. the message IS stored, yet no
// answer ever comes, so the client cannot know). A real service shows these
// only at random (https://learn.microsoft.com/en-us/graph/errors lists 500,
// 503 "The service is temporarily unavailable … You may repeat the request
// after a delay, the length of which may be specified in a Retry-After
// header", 504 "May occur together with 503").

export interface FailRule {
  /** Only requests to this mailbox (any of its addresses or its id); unset: any request, login host included. */
  readonly mailbox?: string;
  /** Tested against the request target as sent (path and query, percent-encoded). */
  readonly path?: RegExp;
  readonly method?: string;
  /** How many matching requests (default 1). */
  readonly times?: number;
  /** The status to answer (default 503); ignored with `drop`. */
  readonly status?: number;
  /** The JSON body to answer (default a Graph error body for the status). */
  readonly body?: object;
  readonly retryAfterSeconds?: number;
  readonly drop?: 'after-store' | 'before-store';
}

interface Armed {
  readonly rule: FailRule;
  left: number;
}

export class Faults {
  readonly #armed: Armed[] = [];

  add(rule: FailRule): void {
    const times = rule.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new TypeError(`graph double: fail({times: ${times}}) must be a whole number ≥ 1`);
    if (rule.drop === undefined && rule.status !== undefined && (rule.status < 100 || rule.status > 599)) throw new TypeError(`graph double: fail({status: ${rule.status}})`);
    this.#armed.push({ rule, left: times });
  }

  /** The first armed rule matching the request, used up by one. `mailbox` is the canonical address of the mailbox addressed, if any. */
  take(method: string, target: string, mailbox: string | undefined): FailRule | undefined {
    for (let i = 0; i < this.#armed.length; i++) {
      const a = this.#armed[i]!;
      const r = a.rule;
      if (r.method !== undefined && r.method.toUpperCase() !== method.toUpperCase()) continue;
      if (r.mailbox !== undefined && (mailbox === undefined || r.mailbox.toLowerCase() !== mailbox.toLowerCase())) continue;
      if (r.path !== undefined) {
        r.path.lastIndex = 0;
        if (!r.path.test(target)) continue;
      }
      if (--a.left === 0) this.#armed.splice(i, 1);
      return r;
    }
    return undefined;
  }

  /** Drops every armed rule (a test's disarm). */
  clear(): void {
    this.#armed.length = 0;
  }

  get pending(): number {
    return this.#armed.reduce((n, a) => n + a.left, 0);
  }
}

/** The code and text of a Graph error body for an injected status. */
export function faultError(status: number): { code: string; message: string } {
  switch (status) {
    case 429:
      return { code: 'TooManyRequests', message: 'Too many requests. Please retry after the interval in the Retry-After header.' };
    case 500:
      return { code: 'ErrorInternalServerError', message: 'An internal server error occurred. The operation failed.' };
    case 502:
      return { code: 'BadGateway', message: 'Bad gateway.' };
    case 503:
      return { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable. Please retry after the interval in the Retry-After header.' };
    case 504:
      return { code: 'GatewayTimeout', message: 'The gateway did not receive a timely response.' };
    default:
      return { code: status >= 500 ? 'UnknownError' : 'BadRequest', message: `Injected fault (HTTP ${status}).` };
  }
}
