/**
 * One circuit breaker per PCP endpoint: a receiver that is down should cost one probe every so
 * often, not a timeout for each of the hundreds of notices queued for it, and one dead receiver
 * must not slow delivery to the others. Only transient failures count: a receiver that answers 401
 * is up, and its notices fail on their own.
 */
import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { DeliveryError, DeliveryErrorCode, isDeliveryError } from './notify-error';

export interface EndpointBreakersOptions {
  /**
   * Transient failures in a row that open an endpoint's breaker.
   * @defaultValue 5
   */
  readonly consecutiveFailures?: number;
  /**
   * How long an open breaker refuses calls before letting one probe through.
   * @defaultValue 30_000
   */
  readonly halfOpenAfterMs?: number;
  /**
   * Breakers kept; the least recently used is forgotten beyond this, so endpoints that come and
   * go cannot grow the map without bound. A forgotten breaker starts closed again.
   * @defaultValue 10_000
   */
  readonly maxEndpoints?: number;
}

/** A breaker's state, for metrics and tests. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** A failure that says the endpoint is unwell: timeouts, unreachable, busy. Not permanent answers. */
export function isRetryableFailure(err: unknown): boolean {
  return isDeliveryError(err) && err.transient && err.code !== DeliveryErrorCode.CircuitOpen;
}

interface Entry {
  readonly policy: CircuitBreakerPolicy;
  /** Epoch ms the breaker last opened; cockatiel does not expose it. */
  openedAt: number;
}

export class EndpointBreakers {
  readonly #entries = new Map<string, Entry>();
  readonly #consecutiveFailures: number;
  readonly #halfOpenAfterMs: number;
  readonly #maxEndpoints: number;

  /** @param options - thresholds and the map's bound. */
  constructor(options: EndpointBreakersOptions = {}) {
    this.#consecutiveFailures = options.consecutiveFailures ?? 5;
    this.#halfOpenAfterMs = options.halfOpenAfterMs ?? 30_000;
    this.#maxEndpoints = options.maxEndpoints ?? 10_000;
  }

  /**
   * Runs one delivery attempt through the endpoint's breaker. `fn` should throw a transient
   * DeliveryError for a busy or unreachable receiver and a permanent one for a rejection.
   * @param key - the endpoint, e.g. `Endpoint/abc`.
   * @param fn - the attempt.
   * @throws DeliveryError `circuit-open` (transient) with `retryAfterMs` while the breaker is open,
   *   or whatever `fn` threw.
   */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const entry = this.#entry(key);
    try {
      return await entry.policy.execute(fn);
    } catch (err) {
      if (!isBrokenCircuitError(err)) throw err;
      const remaining = entry.openedAt + this.#halfOpenAfterMs - Date.now();
      // Nothing remaining means another call is the half-open probe: come back shortly, not at once.
      const retryAfterMs = remaining > 0 ? remaining : Math.min(1_000, this.#halfOpenAfterMs);
      throw new DeliveryError(
        DeliveryErrorCode.CircuitOpen,
        `${key}: circuit open after ${this.#consecutiveFailures} transient failures in a row`,
        { retryAfterMs, cause: err },
      );
    }
  }

  /** The endpoint's breaker state; `closed` for one never seen (or forgotten). */
  state(key: string): BreakerState {
    const state = this.#entries.get(key)?.policy.state ?? CircuitState.Closed;
    switch (state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      case CircuitState.Isolated:
        return 'isolated';
    }
  }

  /** Breakers currently kept. */
  get size(): number {
    return this.#entries.size;
  }

  #entry(key: string): Entry {
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      // Re-inserting moves the key to the end: Map order is the LRU order.
      this.#entries.delete(key);
      this.#entries.set(key, existing);
      return existing;
    }
    const policy = circuitBreaker(handleWhen(isRetryableFailure), {
      halfOpenAfter: this.#halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.#consecutiveFailures),
    });
    const entry: Entry = { policy, openedAt: 0 };
    policy.onBreak(() => {
      entry.openedAt = Date.now();
    });
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxEndpoints) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    return entry;
  }
}
