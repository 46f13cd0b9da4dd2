// Introspection answers are reused only briefly: never past the EHR token's exp, an active one a
// minute at most, an inactive one seconds; the cache is bounded.
import { describe, expect, it } from 'vitest';
import type { IntrospectionResult } from '../../engine/src/auth/ehr-introspection';
import { cacheLifetimeMs, createIntrospectionCache } from '../../engine/src/auth/introspection-cache';

const NOW = 1_700_000_000_000;
const active = (exp?: number): IntrospectionResult => ({
  active: true,
  scopes: ['patient/*.read'],
  patient: 'p1',
  ...(exp !== undefined ? { exp } : {}),
});

describe('cacheLifetimeMs', () => {
  it('is the token’s remaining life, capped at a minute; seconds for an inactive answer', () => {
    expect(cacheLifetimeMs(active(NOW / 1000 + 10), NOW)).toBe(10_000);
    expect(cacheLifetimeMs(active(NOW / 1000 + 3600), NOW)).toBe(60_000);
    expect(cacheLifetimeMs(active(), NOW)).toBe(60_000);
    expect(cacheLifetimeMs(active(NOW / 1000 - 1), NOW)).toBe(0);
    expect(cacheLifetimeMs({ active: false, scopes: [] }, NOW)).toBe(5_000);
  });
});

describe('createIntrospectionCache', () => {
  it('serves an answer until its lifetime ends, per issuer and token', () => {
    let now = NOW;
    const cache = createIntrospectionCache({ now: () => now });
    cache.remember('https://a', 't1', active(NOW / 1000 + 2));
    expect(cache.get('https://a', 't1')?.patient).toBe('p1');
    expect(cache.get('https://b', 't1')).toBeUndefined();
    expect(cache.get('https://a', 't2')).toBeUndefined();
    now += 2_000;
    expect(cache.get('https://a', 't1')).toBeUndefined();
    cache.remember('https://a', 'gone', active(NOW / 1000 - 5));
    expect(cache.size).toBe(0);
  });

  it('drops the oldest entries beyond its bound', () => {
    const cache = createIntrospectionCache({ now: () => NOW, maxEntries: 3 });
    for (const t of ['a', 'b', 'c', 'd']) cache.remember('https://a', t, active());
    expect(cache.size).toBe(3);
    expect(cache.get('https://a', 'a')).toBeUndefined();
    expect(cache.get('https://a', 'd')).toBeDefined();
  });
});
