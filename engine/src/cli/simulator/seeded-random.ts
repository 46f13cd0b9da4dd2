/**
 * A small seeded pseudo-random generator (mulberry32), so a simulator run with the same `--seed`
 * produces the same patients and the same feed. Not for anything security-related.
 */

/** Draws from one deterministic stream. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** A normally distributed float (Box–Muller). */
  normal(mean: number, sd: number): number;
  /** A string of `length` decimal digits (leading zeros allowed). */
  digits(length: number): string;
}

/**
 * Creates a generator from a seed; string seeds are hashed, so `--seed demo` works.
 * @param seed - number or text; equal seeds give equal streams.
 */
export function createRandom(seed: number | string): Random {
  let state = typeof seed === 'number' ? seed >>> 0 : hashSeed(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new RangeError('pick from an empty list');
      return item;
    },
    normal: (mean, sd) => {
      const u = 1 - next();
      const v = next();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    digits: (length) => Array.from({ length }, () => String(Math.floor(next() * 10))).join(''),
  };
  return random;
}

/** Derives an independent child seed, e.g. one stream per connection. */
export function deriveSeed(seed: number | string, salt: string): number {
  return hashSeed(`${String(seed)}/${salt}`);
}

function hashSeed(text: string): number {
  // FNV-1a: spreads short seeds like "1" and "2" far apart.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
