/**
 * Failed console sign-ins counted in Redis (rate-limiter-flexible), per user name and per remote
 * address over a fixed 15-minute window, so every HTTP process of a deployment shares one count.
 * An attempt is counted before its password is checked (one atomic increment), so parallel
 * guesses cannot slip past the limit while the first ones are still being verified; a success
 * gives its point back. When Redis cannot be reached the limiter fails closed: sign-in is
 * refused, never let through uncounted.
 */
import type { Redis } from 'ioredis';
import { RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { CodedError } from '../errors/coded-error';

/** The window failures are counted in. */
export const LOGIN_WINDOW_S = 15 * 60;

/** Who is trying to sign in. */
export interface LoginAttempt {
  /** As typed (compared case-insensitively, so `Alice` and `alice` share one count). */
  readonly userName: string;
  /** The remote address of the connection. */
  readonly address: string;
}

export type LoginAdmission =
  | { readonly admitted: true }
  /** Too many failures: answer 429 with `Retry-After`, without checking the password. */
  | { readonly admitted: false; readonly retryAfterS: number };

export interface ConsoleLoginLimiter {
  /**
   * Counts the attempt as a failure until `succeeded` says otherwise.
   * @throws LoginLimiterUnavailableError when Redis does not answer.
   */
  admit(attempt: LoginAttempt): Promise<LoginAdmission>;
  /**
   * The attempt's password was right: the user name's count is cleared and the address's
   * point given back.
   * @throws LoginLimiterUnavailableError when Redis does not answer.
   */
  succeeded(attempt: LoginAttempt): Promise<void>;
}

/** Redis did not answer the limiter: sign-in must be refused (503), not let through. */
export class LoginLimiterUnavailableError extends CodedError<'login-limiter-unavailable'> {
  override readonly name = 'LoginLimiterUnavailableError';
  constructor(cause: unknown) {
    super('login-limiter-unavailable', 'the sign-in rate limiter (Redis) is unavailable', {
      cause,
      transient: true,
    });
  }
}

export interface ConsoleLoginLimiterOptions {
  /** The engine's producer connection: fails fast when Redis is away. */
  readonly redis: Redis;
  /** QUEUE_PREFIX: tests and deployments sharing a Redis keep their counts apart. */
  readonly prefix: string;
  /** CONSOLE_LOGIN_MAX_FAILURES: failures allowed per user name and per address in the window. */
  readonly maxFailures: number;
}

function limiter(o: ConsoleLoginLimiterOptions, kind: string): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: o.redis,
    keyPrefix: `${o.prefix}:console-login:${kind}`,
    points: o.maxFailures,
    duration: LOGIN_WINDOW_S,
    // Refuse at once when the connection is down, rather than after a command timeout.
    rejectIfRedisNotReady: true,
  });
}

async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new LoginLimiterUnavailableError(err);
  }
}

/** A limiter over the given Redis connection. */
export function createConsoleLoginLimiter(o: ConsoleLoginLimiterOptions): ConsoleLoginLimiter {
  const byUser = limiter(o, 'user');
  const byAddress = limiter(o, 'address');
  const userKey = (a: LoginAttempt): string => a.userName.normalize('NFC').toLowerCase();

  return {
    async admit(attempt) {
      // penalty, not consume: it resolves past the limit too, so the count is read in one step.
      const counts: RateLimiterRes[] = await guarded(() =>
        Promise.all([byUser.penalty(userKey(attempt)), byAddress.penalty(attempt.address)]),
      );
      const over = counts.filter((c) => c.consumedPoints > o.maxFailures);
      if (over.length === 0) return { admitted: true };
      const waitMs = Math.max(...over.map((c) => c.msBeforeNext));
      return { admitted: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
    async succeeded(attempt) {
      await guarded(() => Promise.all([byUser.delete(userKey(attempt)), byAddress.reward(attempt.address)]));
    },
  };
}
