/**
 * Redis connections for BullMQ. Producers fail fast when Redis is away (so the listener can
 * answer AE at once); workers wait and reconnect, as BullMQ requires.
 */
import { Redis } from 'ioredis';

export interface RedisRole {
  /** Workers block on Redis and must never give up a command. */
  readonly role: 'producer' | 'worker';
}

/** Opens a connection for the given role. */
export function createRedis(url: string, { role }: RedisRole): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 3_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    lazyConnect: false,
  });
}

/** Resolves when Redis answers PING, rejects after `timeoutMs` with the reason. */
export async function pingRedis(url: string, timeoutMs = 3_000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
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
