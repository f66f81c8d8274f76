// Repeating a request that is safe to repeat (a read, finding or creating a
// folder) through connection faults, throttling and 5xx answers, with the
// IMAP target's bounded backoff; Retry-After, when given, is the wait.
import { DeliveryError } from '../errors.js';
import { backoffDelay, sleep, type RetryPolicy } from '../imap/retry.js';
import { HttpFault } from './http.js';
import { Throttled } from './folders.js';

export { DEFAULT_RETRY, sleep, backoffDelay, type RetryPolicy } from '../imap/retry.js';

export async function withRetries<T>(policy: RetryPolicy, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const wait = retryable(e);
      if (wait === false) throw e;
      if (attempt > policy.retries) {
        throw new DeliveryError('TARGET_UNAVAILABLE', `${what}: ${attempt} attempts failed; last: ${(e as Error).message}`, { cause: e });
      }
      await sleep(wait ?? backoffDelay(policy, attempt));
    }
  }
}

/** false: not to be retried; a number: the wait the service asked for; undefined: back off. */
function retryable(e: unknown): number | undefined | false {
  if (e instanceof Throttled) return e.retryAfterMs;
  if (e instanceof HttpFault) return undefined;
  if (e instanceof DeliveryError && e.code === 'TARGET_UNAVAILABLE') return undefined;
  return false;
}
