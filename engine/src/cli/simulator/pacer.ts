/**
 * Token-bucket pacing shared by every connection, so `--rate 200` means 200 messages a second in
 * total however many connections send. Pure arithmetic on a clock the caller passes in.
 */

/** Hands out send slots at a fixed rate. */
export interface TokenBucket {
  /**
   * Takes one token and says how long to wait before using it. Tokens may be reserved ahead
   * (the balance goes negative), so concurrent senders get distinct, evenly spaced slots.
   * @param nowMs - the current time in milliseconds.
   * @returns milliseconds to wait; 0 when a token is available now.
   */
  take(nowMs: number): number;
}

export interface TokenBucketOptions {
  /** Tokens per second; 0 or Infinity means unpaced. */
  readonly ratePerSec: number;
  /** Tokens that may accumulate while idle. @defaultValue 1 */
  readonly burst?: number;
  readonly startMs: number;
}

/**
 * Creates a token bucket that starts full.
 * @param options - rate, burst and the clock's start.
 */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { ratePerSec } = options;
  if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) return { take: () => 0 };
  const burst = Math.max(1, options.burst ?? 1);
  let tokens = burst;
  let last = options.startMs;
  return {
    take(nowMs: number): number {
      if (nowMs > last) {
        tokens = Math.min(burst, tokens + ((nowMs - last) * ratePerSec) / 1000);
        last = nowMs;
      }
      tokens -= 1;
      return tokens >= 0 ? 0 : (-tokens * 1000) / ratePerSec;
    },
  };
}

/**
 * The bucket a load of `connections` senders shares. Each sender awaits its ACK before it takes
 * the next token, so at moments every sender is waiting at once; with a burst of one, the slots
 * that fall due then are lost and the rate offered drops below the rate asked for whenever ACKs
 * are slow, which hides a slow receiver. A burst of one token per connection lets each sender
 * take the slot it missed as soon as its ACK arrives.
 * @param ratePerSec - messages per second in total; 0 is unpaced.
 * @param connections - how many senders take from it.
 * @param startMs - the clock's start.
 */
export function createSendPacer(ratePerSec: number, connections: number, startMs: number): TokenBucket {
  return createTokenBucket({ ratePerSec, burst: Math.max(1, connections), startMs });
}
