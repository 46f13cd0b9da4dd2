/**
 * The canonical JSON behind every stored resource's content hash and every linked record's
 * demographics hash. Stored hashes were made by earlier versions of it, so its output must never
 * change: it is checked against the first version's definition, and pinned on one value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../engine/src/store/fhir-json';

/**
 * The definition as the first version wrote it (filter, sort, map, join at every depth). Not
 * JSON.stringify of a sorted copy: that puts integer-like keys ("0") first, in any order.
 */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The same members inserted in another order. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).reverse();
  return Object.fromEntries(entries.map(([k, v]) => [k, reordered(v)]));
}

describe('canonicalJson', () => {
  it('writes what the first version wrote, whatever the key order', () => {
    // An undefined member, which JSON cannot carry but resources built in code can.
    const withUndefined = (x: unknown): unknown =>
      typeof x === 'object' && x !== null && !Array.isArray(x) ? { ...x, gone: undefined } : x;
    const json = fc.jsonValue().map(withUndefined);
    fc.assert(
      fc.property(json, (v) => {
        const expected = reference(v);
        expect(canonicalJson(v)).toBe(expected);
        expect(canonicalJson(reordered(v))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the form stored hashes were made with', () => {
    const value = {
      z: [1, undefined, { b: 'x', a: null }],
      a: { d: [], c: {} },
      m: undefined,
      10: 'é"',
      9: 1,
    };
    expect(canonicalJson(value)).toBe(
      '{"10":"é\\"","9":1,"a":{"c":{},"d":[]},"z":[1,null,{"a":null,"b":"x"}]}',
    );
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });
});
