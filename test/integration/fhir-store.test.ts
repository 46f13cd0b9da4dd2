/**
 * The FHIR store against real PostgreSQL (and once against PGlite): versions and replays,
 * late arrivals, merges, and the search parameters the app and notifications rely on.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../engine/src/store/db';
import { migrate } from '../../engine/src/store/migrate';
import { patientMergeHooks } from '../../engine/src/identity/patient-merge';
import { applyBundle, type ApplyBundleResult } from '../../engine/src/store/fhir-resource-store';
import { readHistory, readResource, readVersion } from '../../engine/src/store/fhir-read';
import { parseSearchQuery } from '../../engine/src/store/fhir-search-query';
import { searchResources, type SearchResult } from '../../engine/src/store/fhir-search';
import type { TransactionBundle } from '../../engine/src/store/fhir-types';
import { createTestDb, type TestDb } from '../helpers/test-db';
import {
  encounter,
  expectStoreError,
  LOINC,
  MRN_SYSTEM,
  observation,
  patient,
  report,
  transaction,
} from './fhir-fixtures';

let t: TestDb;
let db: Db;
let messageSeq = 0;

beforeEach(async () => {
  t = await createTestDb('fhir');
  db = t.db;
});
afterEach(async () => {
  await t.drop();
});

function apply(bundle: TransactionBundle, eventTime: string, target: Db = db): Promise<ApplyBundleResult> {
  messageSeq += 1;
  const messageId = String(messageSeq);
  return target.transaction((tx) =>
    applyBundle(tx, bundle, { eventTime, messageId, hooks: patientMergeHooks() }),
  );
}

function search(
  type: string,
  query: string,
  compartmentPatients?: readonly string[],
  target: Db = db,
): Promise<SearchResult> {
  return searchResources(target, parseSearchQuery(type, new URLSearchParams(query)), {
    compartmentPatients: compartmentPatients === undefined ? undefined : new Set(compartmentPatients),
  });
}

function ids(result: SearchResult): string[] {
  return result.matches.map((m) => m.id);
}

describe('versions', () => {
  it('creates version 1 with meta, then versions the same id when content changes', async () => {
    const first = await apply(transaction(patient('p1', 'MRN1')), '2024-03-01T10:00:00-05:00');
    expect(first).toMatchObject({
      written: [{ type: 'Patient', id: 'p1', versionId: '1' }],
      skipped: [],
      repointed: [],
    });
    expect(first.changes).toMatchObject([
      {
        type: 'Patient',
        id: 'p1',
        outcome: 'created',
        current: { versionId: '1', deleted: false, resource: { gender: 'female' } },
      },
    ]);
    expect(first.changes[0]?.previous).toBeUndefined();
    const v1 = await readResource(db, 'Patient', 'p1');
    expect(v1?.resource.meta).toMatchObject({
      versionId: '1',
      source: 'urn:care:message:' + String(messageSeq),
    });
    expect(Date.parse(v1?.resource.meta?.lastUpdated ?? '')).not.toBeNaN();

    const second = await apply(
      transaction(patient('p1', 'MRN1', { gender: 'other' })),
      '2024-03-02T10:00:00-05:00',
    );
    expect(second.written).toEqual([{ type: 'Patient', id: 'p1', versionId: '2' }]);
    // The change carries both versions, so what runs next can tell what changed.
    expect(second.changes).toMatchObject([
      {
        outcome: 'updated',
        previous: { versionId: '1', resource: { gender: 'female' } },
        current: { versionId: '2', resource: { gender: 'other' } },
      },
    ]);
    const history = await readHistory(db, 'Patient', 'p1');
    expect(history.map((h) => h.versionId)).toEqual(['2', '1']);
    expect((await readVersion(db, 'Patient', 'p1', 1))?.resource['gender']).toBe('female');
    expect((await readResource(db, 'Patient', 'p1'))?.resource['gender']).toBe('other');
    const [{ n } = { n: -1 }] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM fhir_resources',
    );
    expect(n).toBe(1);
  });

  it('adds no version when the same message is replayed', async () => {
    const bundle = transaction(patient('p1', 'MRN1'), encounter('e1', 'p1', '2024-03-01T10:00:00Z'));
    await apply(bundle, '2024-03-01T10:00:00Z');
    const replay = await apply(bundle, '2024-03-01T10:00:00Z');
    expect(replay.written).toEqual([]);
    expect(replay.changes.map((c) => [c.outcome, c.previous?.versionId, c.current?.versionId])).toEqual([
      ['unchanged', '1', '1'],
      ['unchanged', '1', '1'],
    ]);
    expect(replay.skipped).toEqual([
      { type: 'Patient', id: 'p1', reason: 'unchanged' },
      { type: 'Encounter', id: 'e1', reason: 'unchanged' },
    ]);
    expect(await readHistory(db, 'Encounter', 'e1')).toHaveLength(1);
  });

  it('skips an older update so it does not roll back newer data', async () => {
    await apply(transaction(patient('p1', 'MRN1', { gender: 'male' })), '2024-03-05T10:00:00Z');
    const late = await apply(
      transaction(patient('p1', 'MRN1', { gender: 'female' })),
      '2024-03-04T10:00:00Z',
    );
    expect(late.skipped).toEqual([{ type: 'Patient', id: 'p1', reason: 'out-of-order' }]);
    expect(late.changes).toMatchObject([{ outcome: 'out-of-order', current: { versionId: '1' } }]);
    expect((await readResource(db, 'Patient', 'p1'))?.resource['gender']).toBe('male');
  });

  it('moves the event time forward on an unchanged replay seen later', async () => {
    await apply(transaction(patient('p1', 'MRN1')), '2024-03-01T10:00:00Z');
    await apply(transaction(patient('p1', 'MRN1')), '2024-03-09T10:00:00Z');
    const older = await apply(transaction(patient('p1', 'MRN1', { gender: 'male' })), '2024-03-05T10:00:00Z');
    expect(older.skipped[0]?.reason).toBe('out-of-order');
  });

  it('resolves references to fullUrls into Type/id', async () => {
    const bundle: TransactionBundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:aaa',
          resource: patient('p1', 'MRN1'),
          request: { method: 'PUT', url: 'Patient/p1' },
        },
        {
          fullUrl: 'urn:uuid:bbb',
          resource: { ...encounter('e1', 'p1', '2024-03-01'), subject: { reference: 'urn:uuid:aaa' } },
          request: { method: 'PUT', url: 'Encounter/e1' },
        },
      ],
    };
    await apply(bundle, '2024-03-01T10:00:00Z');
    expect((await readResource(db, 'Encounter', 'e1'))?.resource['subject']).toEqual({
      reference: 'Patient/p1',
    });
    expect(ids(await search('Encounter', 'patient=p1'))).toEqual(['e1']);
  });

  it('marks a resource deleted on DELETE and hides it from search', async () => {
    await apply(transaction(patient('p1', 'MRN1')), '2024-03-01T10:00:00Z');
    const bundle: TransactionBundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'DELETE', url: 'Patient/p1' } },
        { request: { method: 'DELETE', url: 'Patient/nope' } },
      ],
    };
    const result = await apply(bundle, '2024-03-02T10:00:00Z');
    expect(result.written).toEqual([{ type: 'Patient', id: 'p1', versionId: '2' }]);
    expect(result.skipped).toEqual([{ type: 'Patient', id: 'nope', reason: 'not-found' }]);
    expect((await readResource(db, 'Patient', 'p1'))?.deleted).toBe(true);
    expect((await search('Patient', '_id=p1')).total).toBe(0);
  });

  it('serialises two transactions creating the same resource', async () => {
    const bundle = transaction(patient('p1', 'MRN1'));
    const results = await Promise.all([
      apply(bundle, '2024-03-01T10:00:00Z'),
      apply(bundle, '2024-03-01T10:00:00Z'),
    ]);
    expect(results.flatMap((r) => r.written)).toHaveLength(1);
    expect(results.flatMap((r) => r.skipped)).toEqual([{ type: 'Patient', id: 'p1', reason: 'unchanged' }]);
    expect(await readHistory(db, 'Patient', 'p1')).toHaveLength(1);
  });

  it('refuses malformed bundles with a located error and writes nothing', async () => {
    const wrongMethod: TransactionBundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: patient('p1', 'M'), request: { method: 'POST', url: 'Patient' } }],
    };
    await expectStoreError(
      apply(wrongMethod, '2024-03-01'),
      'not-supported',
      'Bundle.entry[0].request.method',
    );
    const mismatch: TransactionBundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: patient('p1', 'M'), request: { method: 'PUT', url: 'Patient/p2' } }],
    };
    await expectStoreError(apply(mismatch, '2024-03-01'), 'invalid', 'Bundle.entry[0].resource.id');
    const badDate = transaction(patient('p1', 'M'), encounter('e1', 'p1', '2024-13-01T00:00:00Z'));
    await expectStoreError(apply(badDate, '2024-03-01'), 'invalid', 'Encounter.period');
    await expectStoreError(apply(transaction(patient('p1', 'M')), 'yesterday'), 'invalid', 'eventTime');
    expect(await readResource(db, 'Patient', 'p1')).toBeUndefined();
  });
});

describe('merge (A40)', () => {
  async function seedTwoPatients(): Promise<void> {
    await apply(
      transaction(
        patient('p1', 'MRN1'),
        encounter('e1', 'p1', '2024-03-01T10:00:00Z'),
        observation('o1', 'p1', '2345-7', '2024-03-01T11:00:00Z'),
        report('r1', 'p1', ['o1']),
      ),
      '2024-03-01T11:00:00Z',
    );
    await apply(
      transaction(patient('p2', 'MRN2'), encounter('e2', 'p2', '2024-02-01')),
      '2024-03-01T12:00:00Z',
    );
  }

  const merged = patient('p1', 'MRN1', {
    active: false,
    link: [{ type: 'replaced-by', other: { reference: 'Patient/p2' } }],
  });

  it('re-points encounters and results of the merged patient to the survivor', async () => {
    await seedTwoPatients();
    const result = await apply(transaction(merged, patient('p2', 'MRN2')), '2024-03-02T09:00:00Z');
    expect(result.written).toEqual([{ type: 'Patient', id: 'p1', versionId: '2' }]);
    expect(result.repointed).toEqual([
      { type: 'DiagnosticReport', id: 'r1', versionId: '2' },
      { type: 'Encounter', id: 'e1', versionId: '2' },
      { type: 'Observation', id: 'o1', versionId: '2' },
    ]);
    expect((await readResource(db, 'Encounter', 'e1'))?.resource['subject']).toEqual({
      reference: 'Patient/p2',
    });
    expect(ids(await search('Encounter', 'patient=p2&_sort=date'))).toEqual(['e2', 'e1']);
    expect((await search('Observation', 'patient=p1')).total).toBe(0);
    expect(ids(await search('DiagnosticReport', 'subject=Patient/p2'))).toEqual(['r1']);

    const replay = await apply(transaction(merged, patient('p2', 'MRN2')), '2024-03-02T09:00:00Z');
    expect(replay.repointed).toEqual([]);
    expect(replay.written).toEqual([]);
  });

  it('redirects later results that still name the merged patient', async () => {
    await seedTwoPatients();
    await apply(transaction(merged), '2024-03-02T09:00:00Z');
    const late = await apply(
      transaction(observation('o2', 'p1', '2345-7', '2024-03-03')),
      '2024-03-03T00:00:00Z',
    );
    expect(late.written).toEqual([{ type: 'Observation', id: 'o2', versionId: '1' }]);
    expect((await readResource(db, 'Observation', 'o2'))?.resource['subject']).toEqual({
      reference: 'Patient/p2',
    });
  });
});

describe('search', () => {
  beforeEach(async () => {
    await apply(
      transaction(
        patient('p1', 'MRN1'),
        patient('p2', 'MRN2', {
          name: [{ family: 'Smith', given: ['Bob'] }],
          identifier: [{ system: MRN_SYSTEM, value: 'MRN2' }, { value: 'LOCAL9' }],
        }),
        encounter('e1', 'p1', '2024-01-10T08:00:00Z', { end: '2024-01-12T08:00:00Z', cls: 'IMP' }),
        encounter('e2', 'p1', '2024-03-01T08:00:00Z', { cls: 'EMER' }),
        encounter('e3', 'p2', '2024-02-01T08:00:00Z', { end: '2024-02-01T10:00:00Z', cls: 'AMB' }),
        observation('o1', 'p1', '2345-7', '2024-01-10T09:00:00Z', {
          encounter: { reference: 'Encounter/e1' },
        }),
        observation('o2', 'p1', '718-7', '2024-01-11T09:00:00Z', {
          encounter: { reference: 'Encounter/e1' },
        }),
        observation('o3', 'p1', '2345-7', '2024-03-01T09:00:00Z', {
          category: [{ coding: [{ code: 'vital-signs' }] }],
        }),
        report('r1', 'p1', ['o1', 'o2']),
      ),
      '2024-03-01T10:00:00Z',
    );
  });

  it('finds patients by identifier (system|value, value, |value) and _id', async () => {
    expect(ids(await search('Patient', `identifier=${MRN_SYSTEM}|MRN1`))).toEqual(['p1']);
    expect(ids(await search('Patient', 'identifier=MRN2'))).toEqual(['p2']);
    expect(ids(await search('Patient', 'identifier=|LOCAL9'))).toEqual(['p2']);
    expect(ids(await search('Patient', 'identifier=|MRN1'))).toEqual([]);
    expect(ids(await search('Patient', 'identifier=other|MRN1'))).toEqual([]);
    expect(ids(await search('Patient', '_id=p1,p2&_sort=_id'))).toEqual(['p1', 'p2']);
    expect(ids(await search('Patient', 'name=MULLER'))).toEqual(['p1']);
    expect(ids(await search('Patient', 'family=smi&gender=female'))).toEqual(['p2']);
    expect(ids(await search('Patient', 'family=smi&gender=male'))).toEqual([]);
    expect(ids(await search('Patient', 'given=anna,bo&_sort=_id'))).toEqual(['p1', 'p2']);
    expect(ids(await search('Patient', 'birthdate=1970-05'))).toHaveLength(2);
  });

  it('filters encounters by patient, date prefixes, status and class', async () => {
    expect(ids(await search('Encounter', 'patient=p1&_sort=date'))).toEqual(['e1', 'e2']);
    expect(ids(await search('Encounter', 'subject=Patient/p1&date=ge2024-02&_sort=date'))).toEqual(['e2']);
    expect(ids(await search('Encounter', 'date=2024-01&_sort=date'))).toEqual(['e1']);
    expect(ids(await search('Encounter', 'date=lt2024-01-11&_sort=date'))).toEqual(['e1']);
    expect(ids(await search('Encounter', 'date=gt2024-02-01&_sort=date'))).toEqual(['e2']);
    expect(ids(await search('Encounter', 'date=le2024-02-01T08:00:00Z&_sort=date'))).toEqual(['e1', 'e3']);
    // An open encounter (no end) is ongoing: it overlaps any later instant.
    expect(ids(await search('Encounter', 'date=ge2030-01-01'))).toEqual(['e2']);
    expect(ids(await search('Encounter', 'status=in-progress'))).toEqual(['e2']);
    const cls = encodeURIComponent('http://terminology.hl7.org/CodeSystem/v3-ActCode|EMER');
    expect(ids(await search('Encounter', `class=${cls}`))).toEqual(['e2']);
    expect(ids(await search('Encounter', 'class=AMB,IMP&_sort=-date'))).toEqual(['e3', 'e1']);
    expect(ids(await search('Encounter', 'patient=p1&patient=p2'))).toEqual([]);
  });

  it('filters observations by patient, code, date and category; reports by patient', async () => {
    const code = encodeURIComponent(`${LOINC}|2345-7`);
    expect(ids(await search('Observation', `patient=p1&code=${code}&_sort=date`))).toEqual(['o1', 'o3']);
    expect(ids(await search('Observation', 'code=718-7'))).toEqual(['o2']);
    expect(ids(await search('Observation', 'date=ge2024-01-11&date=lt2024-02&_sort=date'))).toEqual(['o2']);
    expect(ids(await search('Observation', 'date=eq2024-01-10T09:00:00%2B00:00'))).toEqual(['o1']);
    expect(ids(await search('Observation', 'date=eq2024-01-10T04:00:00-05:00'))).toEqual(['o1']);
    expect(ids(await search('Observation', 'category=laboratory&_sort=-date'))).toEqual(['o2', 'o1']);
    expect(ids(await search('DiagnosticReport', 'patient=p1'))).toEqual(['r1']);
    expect(ids(await search('Observation', 'encounter=e1&_sort=date'))).toEqual(['o1', 'o2']);
  });

  it('pages with _count and _offset and sorts by _lastUpdated', async () => {
    const first = await search('Observation', 'patient=p1&_count=2&_sort=-date');
    expect(first.total).toBe(3);
    expect(ids(first)).toEqual(['o3', 'o2']);
    expect(ids(await search('Observation', 'patient=p1&_count=2&_offset=2&_sort=-date'))).toEqual(['o1']);
    expect((await search('Observation', 'patient=p1&_count=0')).matches).toEqual([]);
    expect(parseSearchQuery('Observation', new URLSearchParams('_count=9999')).count).toBe(500);
    expect(parseSearchQuery('Observation', new URLSearchParams('')).count).toBe(50);

    await apply(
      transaction(observation('o1', 'p1', '2345-7', '2024-01-10T09:00:00Z', { status: 'amended' })),
      '2024-03-05',
    );
    expect(ids(await search('Observation', '_sort=-_lastUpdated&_count=1'))).toEqual(['o1']);
    expect(ids(await search('Observation', '_lastUpdated=gt2020-01-01&_sort=_id'))).toEqual([
      'o1',
      'o2',
      'o3',
    ]);
  });

  it('adds _include resources with their own ids', async () => {
    const withPatient = await search(
      'Observation',
      'code=718-7&_include=Observation:patient&_include=Observation:encounter',
    );
    expect(ids(withPatient)).toEqual(['o2']);
    expect(withPatient.included.map((r) => `${r.resourceType}/${r.id}`)).toEqual([
      'Encounter/e1',
      'Patient/p1',
    ]);
    const results = await search('DiagnosticReport', 'patient=p1&_include=DiagnosticReport:result');
    expect(results.included.map((r) => r.id).sort()).toEqual(['o1', 'o2']);
    const enc = await search('Encounter', '_id=e3&_include=Encounter:patient');
    expect(enc.included.map((r) => r.id)).toEqual(['p2']);
  });

  it('restricts a patient-bound search to its patients', async () => {
    expect(ids(await search('Encounter', '_sort=date', ['p2']))).toEqual(['e3']);
    expect(ids(await search('Patient', '', ['p2']))).toEqual(['p2']);
    expect((await search('Observation', 'patient=p1', ['p2'])).total).toBe(0);
    expect(ids(await search('Encounter', '_sort=date', ['p1', 'p2']))).toEqual(['e1', 'e3', 'e2']);
    expect(ids(await search('Patient', '_sort=_id', ['p2', 'p1', 'p9']))).toEqual(['p1', 'p2']);
    expect((await search('Encounter', '', [])).total).toBe(0);
    expect((await search('Patient', '', [])).total).toBe(0);
  });

  it('refuses unknown parameters, modifiers and malformed values', async () => {
    const parse = (type: string, q: string): Promise<unknown> =>
      Promise.resolve().then(() => parseSearchQuery(type, new URLSearchParams(q)));
    await expectStoreError(parse('Observation', 'foo=1'), 'not-supported', 'foo');
    await expectStoreError(parse('Patient', 'subject=p1'), 'not-supported', 'subject');
    await expectStoreError(parse('Observation', 'code:text=x'), 'not-supported', 'code:text');
    await expectStoreError(parse('Observation', 'date=2024-02-30'), 'invalid', 'date');
    await expectStoreError(parse('Observation', 'date=ap2024-02-01'), 'not-supported', 'date');
    await expectStoreError(parse('Observation', '_sort=code'), 'not-supported', '_sort');
    await expectStoreError(parse('Observation', '_include=Encounter:patient'), 'not-supported', '_include');
    await expectStoreError(parse('Observation', '_count=-1'), 'invalid', '_count');
    await expectStoreError(parse('Encounter', 'patient=Observation/1'), 'invalid', 'patient');
  });
});

describe('PGlite', () => {
  it('stores and searches with the same SQL on the embedded engine', async () => {
    const lite = await openDb({ schema: 'fhir_lite', dataDir: 'memory://' });
    try {
      await migrate(lite);
      const bundle = transaction(patient('p1', 'MRN1'), encounter('e1', 'p1', '2024-03-01T10:00:00Z'));
      expect((await apply(bundle, '2024-03-01T10:00:00Z', lite)).written).toHaveLength(2);
      expect((await apply(bundle, '2024-03-01T10:00:00Z', lite)).written).toHaveLength(0);
      const found = await search(
        'Encounter',
        'patient=p1&date=ge2024-03&_include=Encounter:patient',
        undefined,
        lite,
      );
      expect(ids(found)).toEqual(['e1']);
      expect(found.included.map((r) => r.id)).toEqual(['p1']);
      expect(
        ids(await search('Patient', `identifier=${MRN_SYSTEM}|MRN1&name=mull`, undefined, lite)),
      ).toEqual(['p1']);
    } finally {
      await lite.close();
    }
  });
});
