/**
 * Redis connections for BullMQ. Producers fail fast when Redis is away or stalled (so the
 * listener can answer AE within REDIS_TIMEOUT_MS); workers wait and reconnect, as BullMQ
 * requires, but a connection that stops answering is replaced rather than waited on for ever.
 */
import { Redis } from 'ioredis';

export interface RedisRole {
  /** Workers block on Redis and must never give up a command. */
  readonly role: 'producer' | 'worker';
  /**
   * Bound on connecting and, for producers, on each command.
   * @defaultValue 2000
   */
  readonly timeoutMs?: number;
}

/**
 * How long a worker connection may stay silent with a command pending before it is replaced.
 * Longer than BullMQ's longest BZPOPMIN (10 s) and than a job lock (30 s): a shorter stall
 * resumes on the same socket with nothing lost, and once the lock has expired the stalled-job
 * check hands the job on anyway, so replacing the socket then costs nothing.
 */
const WORKER_SILENCE_MS = 60_000;

/** Opens a connection for the given role. */
export function createRedis(url: string, { role, timeoutMs = 2_000 }: RedisRole): Redis {
  const common = {
    connectTimeout: timeoutMs,
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
    lazyConnect: false,
  };
  if (role === 'producer') {
    return new Redis(url, {
      ...common,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      // A stalled socket (open, silent) fails each command in time: the sender gets AE.
      commandTimeout: timeoutMs,
      // ...and is replaced, so the producer recovers once Redis answers on a new connection.
      socketTimeout: timeoutMs,
    });
  }
  // No commandTimeout: BullMQ duplicates this connection for its blocking BZPOPMIN, which waits
  // up to 10 s for a job by design and would fail on every idle poll; BullMQ bounds that wait
  // itself (a watchdog resets the blocking connection a second after the block should have
  // ended). The other worker commands are bounded by socketTimeout, which fires only while a
  // command is pending and no byte arrives: a silent socket is destroyed and reconnected, and
  // its pending commands resent, so a stalled Redis holds no worker for ever.
  return new Redis(url, {
    ...common,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    socketTimeout: Math.max(WORKER_SILENCE_MS, timeoutMs),
  });
}

/** Resolves when Redis answers PING, rejects after `timeoutMs` with the reason. */
export async function pingRedis(url: string, timeoutMs = 3_000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  // The caller hears the failure through the rejected promise; the event would only repeat it.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}
