/**
 * The merge rule for list elements on its own: a union keeps every stored result, a keyed merge
 * updates items in place and ends the ones no longer named (or removes them, with drop), and an
 * older message only fills gaps.
 */
import { describe, expect, it } from 'vitest';
import type { ElementMerge } from '../../engine/src/fhir/merge-directive';
import { mergeExtension, readMerges } from '../../engine/src/fhir/merge-directive';
import { mergeLists } from '../../engine/src/store/merge-lists';

const ref = (id: string): { reference: string } => ({ reference: `Observation/${id}` });
const UNION: ElementMerge = { element: 'result' };
const HISTORY: ElementMerge = {
  element: 'location',
  by: 'location.reference',
  notSent: { status: 'completed' },
};
const at = (id: string, status: string, period?: Record<string, string>): Record<string, unknown> => ({
  location: { reference: `Location/${id}` },
  status,
  ...(period !== undefined ? { period } : {}),
});

describe('union', () => {
  it('keeps stored items, adds new ones once, and never duplicates a resent one', () => {
    const merged = mergeLists(UNION, {
      stored: [ref('a'), ref('b'), ref('c')],
      received: [ref('b'), ref('d')],
      receivedIsNewer: true,
    });
    expect(merged).toEqual([ref('a'), ref('b'), ref('c'), ref('d')]);
  });

  it('keeps the stored order whichever side is newer', () => {
    const late = mergeLists(UNION, {
      stored: [ref('b')],
      received: [ref('a'), ref('b')],
      receivedIsNewer: false,
    });
    expect(late).toEqual([ref('b'), ref('a')]);
  });
});

describe('by key', () => {
  it('merges a resent item into the stored one, keeping what the message does not say', () => {
    const merged = mergeLists(HISTORY, {
      stored: [at('4w', 'completed', { start: 't1', end: 't2' }), at('icu', 'active', { start: 't2' })],
      received: [at('icu', 'completed', { end: 't3' })],
      receivedIsNewer: true,
    });
    expect(merged).toEqual([
      at('4w', 'completed', { start: 't1', end: 't2' }),
      at('icu', 'completed', { start: 't2', end: 't3' }),
    ]);
  });

  it('applies notSent to a stored item the newer message no longer names', () => {
    const merged = mergeLists(HISTORY, {
      stored: [at('4w', 'active', { start: 't1' })],
      received: [at('icu', 'active', { start: 't2' })],
      receivedIsNewer: true,
    });
    expect(merged).toEqual([at('4w', 'completed', { start: 't1' }), at('icu', 'active', { start: 't2' })]);
  });

  it('lets an older message fill gaps and add items, never take a value back', () => {
    // Stored from the A03 (newer); the A02 (older) arrives late with the transfer times.
    const merged = mergeLists(HISTORY, {
      stored: [at('4w', 'completed', { start: 't1' }), at('icu', 'completed', { end: 't3' })],
      received: [
        at('icu', 'active', { start: 't2' }),
        at('4w', 'completed', { end: 't2' }),
        at('x', 'active'),
      ],
      receivedIsNewer: false,
    });
    expect(merged).toEqual([
      at('4w', 'completed', { start: 't1', end: 't2' }),
      at('icu', 'completed', { start: 't2', end: 't3' }),
      // Only the older message names it: the newer state has the patient elsewhere.
      at('x', 'completed'),
    ]);
  });

  it('keeps only the listed sub-elements of a matched stored item when keep is set', () => {
    const rule: ElementMerge = { ...HISTORY, keep: ['period.start'] };
    const merged = mergeLists(rule, {
      stored: [at('4w', 'completed', { start: 't1', end: 't2' }), at('icu', 'active', { start: 't2' })],
      received: [at('4w', 'active')],
      receivedIsNewer: true,
    });
    expect(merged).toEqual([at('4w', 'active', { start: 't1' }), at('icu', 'completed', { start: 't2' })]);
  });

  it('removes an unsent item that matches drop, and gives notSent to the others', () => {
    const rule: ElementMerge = { ...HISTORY, drop: { status: 'reserved' } };
    const merged = mergeLists(rule, {
      stored: [at('4w', 'active', { start: 't1' }), at('icu', 'reserved'), at('er', 'active')],
      received: [at('4w', 'active')],
      receivedIsNewer: true,
    });
    expect(merged).toEqual([at('4w', 'active', { start: 't1' }), at('er', 'completed')]);
  });

  it('keeps a resent item that matches drop, and drops one only a late message names', () => {
    const rule: ElementMerge = { ...HISTORY, drop: { status: 'reserved' } };
    // The newer stored state has the bed reserved again; a late message (the cancelled pending
    // transfer's own reservation) names another one, which the newer state no longer holds.
    const merged = mergeLists(rule, {
      stored: [at('4w', 'active'), at('icu', 'reserved')],
      received: [at('4w', 'active'), at('icu', 'reserved'), at('3e', 'reserved')],
      receivedIsNewer: false,
    });
    expect(merged).toEqual([at('4w', 'active'), at('icu', 'reserved')]);
  });

  it('lists a place a message names twice once, as its first mention says', () => {
    const merged = mergeLists(HISTORY, {
      stored: undefined,
      received: [at('4w', 'active'), at('4w', 'completed', { end: 't2' })],
      receivedIsNewer: true,
    });
    expect(merged).toEqual([at('4w', 'active')]);
  });
});

describe('merge extension', () => {
  it('reads back what it writes, and flags one without an element', () => {
    const rule: ElementMerge = { ...HISTORY, keep: ['period.start'], drop: { status: 'reserved' } };
    expect(readMerges({ extension: [mergeExtension(rule), mergeExtension(UNION)] })).toEqual([rule, UNION]);
    expect(readMerges({ extension: [{ url: 'urn:care:fhir:merge', extension: [] }] })).toEqual([undefined]);
  });
});
