/**
 * How long to wait before resending a notice: exponential backoff with jitter, so a PCP endpoint
 * that comes back is not hit by every queued notice at the same instant, and Retry-After parsing,
 * so a receiver that says when to come back is believed.
 */

export interface RetryDelayOptions {
  /** The ceiling of the first retry's wait. */
  readonly baseMs: number;
  /** No wait is longer than this, however many attempts failed. */
  readonly maxMs: number;
}

/**
 * The wait before retry number `attempt` (1 for the first retry): a random value between half and
 * all of `min(maxMs, baseMs * 2^(attempt-1))`. This is "equal jitter" in the AWS Architecture Blog's
 * terms rather than full jitter (0 to the ceiling): it spreads retries almost as well, but never
 * retries a failing receiver almost at once, which full jitter does on an unlucky draw.
 * @param attempt - 1-based retry number; below 1 (or not a number) counts as 1.
 * @param o - base and maximum wait.
 * @param random - a source in [0, 1); tests pass a seeded one.
 * @returns whole milliseconds, between `ceiling / 2` and `ceiling`.
 */
export function retryDelayMs(
  attempt: number,
  o: RetryDelayOptions,
  random: () => number = Math.random,
): number {
  const n = Number.isFinite(attempt) && attempt >= 1 ? Math.floor(attempt) : 1;
  // 2 ** 1100 is Infinity, which Math.min turns into maxMs: no overflow to guard against.
  const ceiling = Math.max(0, Math.min(o.maxMs, o.baseMs * 2 ** (n - 1)));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling * (0.5 + 0.5 * r));
}

// RFC 9110 section 10.2.3: delay-seconds is 1*DIGIT.
const DELAY_SECONDS = /^\d+$/;

/**
 * The wait a `Retry-After` header asks for (RFC 9110 section 10.2.3): delay-seconds or an
 * HTTP-date. A date in the past means now (0). Capping the wait is the caller's policy.
 * @param value - the header, if the answer had one.
 * @param now - the current time in epoch milliseconds, to turn a date into a wait.
 * @returns milliseconds, or undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === '') return undefined;
  if (DELAY_SECONDS.test(text)) return Number(text) * 1000;
  // HTTP-dates always name a weekday or month; requiring a letter keeps Date.parse's leniency
  // from reading "1.5" or "-3" as a date.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - now);
}
