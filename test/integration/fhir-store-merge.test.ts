/**
 * Merged list elements through the store on real PostgreSQL: a report's results survive a
 * correction that resends one, a visit's locations build up a history, and a message arriving
 * after a newer one still adds what it knows without rolling anything back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mergeExtension, type ElementMerge } from '../../engine/src/fhir/merge-directive';
import { UPDATE_MODE_EXTENSION } from '../../engine/src/fhir/store-directives';
import { applyBundle } from '../../engine/src/store/fhir-resource-store';
import { readResource } from '../../engine/src/store/fhir-read';
import type { FhirResource, TransactionBundle } from '../../engine/src/store/fhir-types';
import { createTestDb, type TestDb } from '../helpers/test-db';
import { encounter, expectStoreError, report, transaction } from './fhir-fixtures';

let t: TestDb;
let seq = 0;
beforeEach(async () => {
  t = await createTestDb('fhirlists');
});
afterEach(async () => {
  await t.drop();
});

const apply = (bundle: TransactionBundle, eventTime: string) =>
  t.db.transaction((tx) => applyBundle(tx, bundle, { eventTime, messageId: String(++seq) }));

/** One PUT entry carrying the given request extensions. */
function withExtensions(resource: FhirResource, extension: unknown[]): TransactionBundle {
  const bundle = transaction(resource);
  return {
    ...bundle,
    entry: (bundle.entry ?? []).map((e) => ({
      ...e,
      request: { method: 'PUT', url: e.request?.url ?? '', extension },
    })),
  };
}

const RESULTS: ElementMerge = { element: 'result' };
const LOCATIONS: ElementMerge = {
  element: 'location',
  by: 'location.reference',
  notSent: { status: 'completed' },
};

describe('results: union', () => {
  it('keeps every result of the report when a correction resends one, with no duplicate', async () => {
    const original = report('r1', 'p1', ['glu', 'na', 'k']);
    await apply(withExtensions(original, [mergeExtension(RESULTS)]), '2024-03-06T07:00:00Z');
    const correction = { ...report('r1', 'p1', ['na']), status: 'corrected' };
    const result = await apply(withExtensions(correction, [mergeExtension(RESULTS)]), '2024-03-06T07:00:00Z');
    expect(result.written).toEqual([{ type: 'DiagnosticReport', id: 'r1', versionId: '2' }]);
    const stored = (await readResource(t.db, 'DiagnosticReport', 'r1'))?.resource;
    expect(stored?.['status']).toBe('corrected');
    expect(stored?.['result']).toEqual(['glu', 'na', 'k'].map((o) => ({ reference: `Observation/${o}` })));

    // A report update with no results at all leaves them, although the report is `replace`.
    const bare = { ...report('r1', 'p1', []), status: 'final' };
    Reflect.deleteProperty(bare, 'result');
    await apply(withExtensions(bare, [mergeExtension(RESULTS)]), '2024-03-06T07:00:00Z');
    expect((await readResource(t.db, 'DiagnosticReport', 'r1'))?.resource['result']).toHaveLength(3);

    // Without the merge rule the message's list replaces the stored one, as it always did.
    await apply(transaction(report('r1', 'p1', ['na'])), '2024-03-06T07:00:00Z');
    expect((await readResource(t.db, 'DiagnosticReport', 'r1'))?.resource['result']).toEqual([
      { reference: 'Observation/na' },
    ]);
  });

  it('rejects a merge extension that names no element', async () => {
    const bad = withExtensions(report('r1', 'p1', ['na']), [{ url: 'urn:care:fhir:merge', extension: [] }]);
    await expectStoreError(
      apply(bad, '2024-03-06T07:00:00Z'),
      'invalid',
      'Bundle.entry[0].request.extension',
    );
  });
});

const at = (id: string, status: string, period: Record<string, string> = {}): Record<string, unknown> => ({
  location: { reference: `Location/${id}` },
  status,
  ...(Object.keys(period).length > 0 ? { period } : {}),
});
const T1 = '2024-03-05T10:00:00Z';
const T2 = '2024-03-06T08:25:00Z';
const T3 = '2024-03-08T15:45:00Z';
const visit = (location: unknown[], status = 'in-progress'): FhirResource => ({
  ...encounter('e1', 'p1', '2024-03-05T10:00:00Z', status === 'finished' ? { end: T3 } : {}),
  location,
});
const asMergedVisit = (resource: FhirResource): TransactionBundle =>
  withExtensions(resource, [{ url: UPDATE_MODE_EXTENSION, valueCode: 'merge' }, mergeExtension(LOCATIONS)]);

const A01 = visit([at('4w', 'active', { start: T1 })]);
const A02 = visit([at('icu', 'active', { start: T2 }), at('4w', 'completed', { end: T2 })]);
const A03 = visit([at('icu', 'completed', { end: T3 })], 'finished');

describe('locations: by location.reference', () => {
  it('builds the history of an admission, a transfer and a discharge', async () => {
    await apply(asMergedVisit(A01), '2024-03-05T10:00:00Z');
    await apply(asMergedVisit(A02), '2024-03-06T08:25:00Z');
    await apply(asMergedVisit(A03), '2024-03-08T15:55:00Z');
    const stored = (await readResource(t.db, 'Encounter', 'e1'))?.resource;
    expect(stored?.['location']).toEqual([
      at('4w', 'completed', { start: T1, end: T2 }),
      at('icu', 'completed', { start: T2, end: T3 }),
    ]);
  });

  it('loses no location when the discharge is stored before the transfer, and keeps the newer state', async () => {
    await apply(asMergedVisit(A01), '2024-03-05T10:00:00Z');
    await apply(asMergedVisit(A03), '2024-03-08T15:55:00Z');
    const late = await apply(asMergedVisit(A02), '2024-03-06T08:25:00Z');
    expect(late.written).toEqual([{ type: 'Encounter', id: 'e1', versionId: '3' }]);
    const stored = (await readResource(t.db, 'Encounter', 'e1'))?.resource;
    expect(stored?.['status']).toBe('finished');
    expect(stored?.['location']).toEqual([
      at('4w', 'completed', { start: T1, end: T2 }),
      at('icu', 'completed', { start: T2, end: T3 }),
    ]);
    // Once it has added what it knew, the same late message changes nothing.
    expect((await apply(asMergedVisit(A02), '2024-03-06T08:25:00Z')).skipped).toEqual([
      { type: 'Encounter', id: 'e1', reason: 'out-of-order' },
    ]);
  });
});
