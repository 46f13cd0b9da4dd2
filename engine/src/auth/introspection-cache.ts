/**
 * Introspection answers, kept briefly so an app that re-exchanges (or several tabs launching
 * together) does not call the EHR each time. An answer is kept at most until the EHR token
 * expires and at most a minute (so a token the EHR revokes stops working soon), an inactive
 * answer only seconds; the cache is bounded and keyed by a hash, never by the token itself.
 */
import { createHash } from 'node:crypto';
import type { IntrospectionResult } from './ehr-introspection';

/** Longest an active answer is reused. */
export const ACTIVE_CACHE_SECONDS = 60;
/** Longest an inactive answer is reused: enough to absorb a burst of retries, no more. */
export const INACTIVE_CACHE_SECONDS = 5;
/** Entries kept; beyond it the oldest go first. */
export const DEFAULT_CACHE_ENTRIES = 10_000;

export interface IntrospectionCache {
  /** The answer for this token, if one is kept and still fresh. */
  get(iss: string, token: string): IntrospectionResult | undefined;
  /** Keeps `result` for as long as the rules above allow (not at all for an expired token). */
  remember(iss: string, token: string, result: IntrospectionResult): void;
  readonly size: number;
}

export interface IntrospectionCacheOptions {
  /** @defaultValue DEFAULT_CACHE_ENTRIES */
  readonly maxEntries?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/**
 * How long an answer may be reused, in milliseconds from `nowMs`; 0 means not at all.
 * @param result - an introspection answer.
 */
export function cacheLifetimeMs(result: IntrospectionResult, nowMs: number): number {
  if (!result.active) return INACTIVE_CACHE_SECONDS * 1000;
  const cap = ACTIVE_CACHE_SECONDS * 1000;
  return result.exp === undefined ? cap : Math.max(0, Math.min(cap, result.exp * 1000 - nowMs));
}

const keyOf = (iss: string, token: string): string =>
  createHash('sha256').update(iss).update('\u0000').update(token).digest('base64url');

/** A cache in this process's memory. */
export function createIntrospectionCache(o: IntrospectionCacheOptions = {}): IntrospectionCache {
  const maxEntries = o.maxEntries ?? DEFAULT_CACHE_ENTRIES;
  const now = o.now ?? Date.now;
  const entries = new Map<string, { result: IntrospectionResult; until: number }>();
  return {
    get(iss, token) {
      const key = keyOf(iss, token);
      const hit = entries.get(key);
      if (hit === undefined) return undefined;
      if (hit.until <= now()) {
        entries.delete(key);
        return undefined;
      }
      return hit.result;
    },
    remember(iss, token, result) {
      const at = now();
      const lifetime = cacheLifetimeMs(result, at);
      const key = keyOf(iss, token);
      entries.delete(key);
      if (lifetime <= 0) return;
      entries.set(key, { result, until: at + lifetime });
      // Map iteration is insertion order: the first keys are the oldest.
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
