/**
 * How updates land: `merge` entries keep stored elements a thin message does not carry, and a
 * merge (A40) that arrives after newer demographics still happens, because it is about identity.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { patientMergeHooks } from '../../engine/src/identity/patient-merge';
import { applyBundle } from '../../engine/src/store/fhir-resource-store';
import { readResource } from '../../engine/src/store/fhir-read';
import type { TransactionBundle } from '../../engine/src/store/fhir-types';
import { createTestDb, type TestDb } from '../helpers/test-db';
import { KEEP_STORED_EXTENSION, UPDATE_MODE_EXTENSION } from '../../engine/src/fhir/store-directives';
import { encounter, patient, transaction } from './fhir-fixtures';

let t: TestDb;
let seq = 0;
beforeEach(async () => {
  t = await createTestDb('fhirmerge');
});
afterEach(async () => {
  await t.drop();
});

const apply = (bundle: TransactionBundle, eventTime: string) =>
  t.db.transaction((tx) =>
    applyBundle(tx, bundle, { eventTime, messageId: String(++seq), hooks: patientMergeHooks() }),
  );

describe('late merge', () => {
  it('marks the merged patient replaced-by and moves its encounters, keeping the newer demographics', async () => {
    await apply(
      transaction(patient('p1', 'MRN1'), encounter('e1', 'p1', '2024-03-01T10:00:00Z')),
      '2024-03-01T10:00:00Z',
    );
    await apply(transaction(patient('p2', 'MRN2')), '2024-03-01T10:00:00Z');
    // An A08 for p1 with a later event time than the merge that follows it.
    await apply(transaction(patient('p1', 'MRN1', { name: [{ family: 'Newer' }] })), '2024-03-05T00:00:00Z');
    const merged = patient('p1', 'MRN1', {
      active: false,
      link: [{ type: 'replaced-by', other: { reference: 'Patient/p2' } }],
    });
    const result = await apply(transaction(merged), '2024-03-02T00:00:00Z');

    expect(result.written).toEqual([{ type: 'Patient', id: 'p1', versionId: '3' }]);
    expect(result.repointed).toEqual([{ type: 'Encounter', id: 'e1', versionId: '2' }]);
    const p1 = (await readResource(t.db, 'Patient', 'p1'))?.resource;
    expect(p1).toMatchObject({ active: false, name: [{ family: 'Newer' }], link: [{ type: 'replaced-by' }] });
    expect((await readResource(t.db, 'Encounter', 'e1'))?.resource['subject']).toEqual({
      reference: 'Patient/p2',
    });

    // A plain late update is still skipped.
    const old = await apply(
      transaction(patient('p1', 'MRN1', { name: [{ family: 'Older' }] })),
      '2024-03-01T12:00:00Z',
    );
    expect(old.skipped).toEqual([{ type: 'Patient', id: 'p1', reason: 'out-of-order' }]);
  });
});

describe('update modes', () => {
  const asMerge = (bundle: TransactionBundle): TransactionBundle => ({
    ...bundle,
    entry: (bundle.entry ?? []).map((e) => ({
      ...e,
      request: {
        method: 'PUT',
        url: e.request?.url ?? '',
        extension: [{ url: UPDATE_MODE_EXTENSION, valueCode: 'merge' }],
      },
    })),
  });

  it('merge keeps stored top-level elements the message does not carry; replace drops them', async () => {
    const full = patient('p1', 'MRN1', {
      address: [{ line: ['12 Oak St'] }],
      generalPractitioner: [{ reference: 'Practitioner/pcp' }],
    });
    await apply(transaction(full), '2024-03-01T10:00:00Z');
    const thin = patient('p1', 'MRN1', { gender: 'other' });
    const merged = await apply(asMerge(transaction(thin)), '2024-03-02T10:00:00Z');
    expect(merged.written).toEqual([{ type: 'Patient', id: 'p1', versionId: '2' }]);
    expect((await readResource(t.db, 'Patient', 'p1'))?.resource).toMatchObject({
      gender: 'other',
      address: [{ line: ['12 Oak St'] }],
      generalPractitioner: [{ reference: 'Practitioner/pcp' }],
    });
    // The same thin message again changes nothing.
    expect((await apply(asMerge(transaction(thin)), '2024-03-02T10:00:00Z')).skipped).toEqual([
      { type: 'Patient', id: 'p1', reason: 'unchanged' },
    ]);
    await apply(transaction(thin), '2024-03-03T10:00:00Z');
    expect((await readResource(t.db, 'Patient', 'p1'))?.resource['address']).toBeUndefined();
  });

  it('keeps a stored element when the entry filled it from a fallback (keep-stored)', async () => {
    await apply(transaction(encounter('e1', 'p1', '2024-03-01T10:00:00Z')), '2024-03-01T10:00:00Z');
    const unknown = { ...encounter('e1', 'p1', '2024-03-01T10:00:00Z'), status: 'unknown' };
    const keep: TransactionBundle = {
      ...transaction(unknown),
      entry: transaction(unknown).entry?.map((e) => ({
        ...e,
        request: {
          method: 'PUT',
          url: e.request?.url ?? '',
          extension: [
            { url: UPDATE_MODE_EXTENSION, valueCode: 'merge' },
            { url: KEEP_STORED_EXTENSION, valueString: 'status' },
          ],
        },
      })),
    };
    await apply(keep, '2024-03-02T10:00:00Z');
    expect((await readResource(t.db, 'Encounter', 'e1'))?.resource['status']).toBe('in-progress');
  });
});
