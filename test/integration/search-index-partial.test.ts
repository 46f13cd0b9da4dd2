/**
 * The search index's value, date and reference indexes hold only the rows they can find
 * (migration 016), and the lookups that go through them still do, under the generic plans every
 * session uses: a partial index serves a query only when the planner can prove the query's
 * conditions imply its predicate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NPI_SYSTEM } from '../../engine/src/notify/attribution';
import { createTestDb, type TestDb } from '../helpers/test-db';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb('partial');
  // A Practitioner with an NPI, a PractitionerRole naming it, an Encounter with a period: one
  // row of each kind, and enough rows that an index is worth reading.
  await t.db.exec(`
    INSERT INTO fhir_resources (resource_type, id, version_id, last_updated, event_time, deleted, content_hash, resource)
    SELECT type, type || '-' || n, 1, now(), now(), false, 'h', '{}'::jsonb
      FROM unnest(ARRAY['Practitioner', 'PractitionerRole', 'Encounter']) AS type, generate_series(1, 400) AS n;
    INSERT INTO fhir_search_index (resource_type, id, param, system, value, date_start, date_end, reference)
    SELECT 'Practitioner', 'Practitioner-' || n, 'identifier', '${NPI_SYSTEM}', (1000000000 + n)::text, NULL::timestamptz, NULL::timestamptz, NULL
      FROM generate_series(1, 400) AS n
    UNION ALL
    SELECT 'PractitionerRole', 'PractitionerRole-' || n, 'practitioner', NULL, NULL, NULL, NULL, 'Practitioner/Practitioner-' || n
      FROM generate_series(1, 400) AS n
    UNION ALL
    SELECT 'Encounter', 'Encounter-' || n, 'date', NULL, NULL, now() - n * interval '1 day', now() - n * interval '1 day' + interval '2 hours', NULL
      FROM generate_series(1, 400) AS n;
    ANALYZE fhir_search_index;
  `);
});
afterAll(async () => {
  await t.drop();
});

/** The plan of `sql` with `params`, as PostgreSQL would run it prepared: generic, no seq scan. */
async function genericPlan(sql: string, types: string, params: string): Promise<string> {
  return t.db.transaction(async (tx) => {
    await tx.query('SET LOCAL enable_seqscan = off');
    await tx.query('SET LOCAL plan_cache_mode = force_generic_plan');
    await tx.query(`PREPARE probe(${types}) AS ${sql}`);
    try {
      const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE probe(${params})`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await tx.query('DEALLOCATE probe');
    }
  });
}

describe('search index (migration 016)', () => {
  it('keeps in the value, date and reference indexes only the rows that have such a value', async () => {
    const defs = await t.db.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'fhir_search_index'`,
      [t.schema],
    );
    const where = Object.fromEntries(
      defs.map((d) => [d.indexname, /WHERE (.*)$/.exec(d.indexdef)?.[1] ?? '']),
    );
    expect(where).toEqual({
      fhir_search_index_value: '(value IS NOT NULL)',
      fhir_search_index_date: '((date_start IS NOT NULL) OR (date_end IS NOT NULL))',
      fhir_search_index_reference: '(reference IS NOT NULL)',
      fhir_search_index_resource: '',
    });
    const [sizes] = await t.db.query<{ value: string; reference: string; date: string; resource: string }>(
      `SELECT (SELECT count(*) FROM fhir_search_index WHERE value IS NOT NULL)::text AS value,
              (SELECT count(*) FROM fhir_search_index WHERE reference IS NOT NULL)::text AS reference,
              (SELECT count(*) FROM fhir_search_index WHERE date_start IS NOT NULL)::text AS date,
              (SELECT count(*) FROM fhir_search_index)::text AS resource`,
    );
    expect(sizes).toEqual({ value: '400', reference: '400', date: '400', resource: '1200' });
  });

  it('serves a token lookup by value (practitioners by NPI) from the value index', async () => {
    const plan = await genericPlan(
      `SELECT DISTINCT id, value FROM fhir_search_index
        WHERE resource_type = 'Practitioner' AND param = 'identifier' AND system = $1 AND value = ANY($2::text[])`,
      'text, text[]',
      `'${NPI_SYSTEM}', ARRAY['1000000007']`,
    );
    expect(plan).toContain('fhir_search_index_value');
  });

  it('serves a reference lookup from the reference index', async () => {
    const plan = await genericPlan(
      `SELECT DISTINCT resource_type, id FROM fhir_search_index WHERE reference = $1 AND param = ANY($2::text[])`,
      'text, text[]',
      `'Practitioner/Practitioner-7', ARRAY['practitioner']`,
    );
    expect(plan).toContain('fhir_search_index_reference');
  });

  it('still finds rows by reference and by token in one OR (the recipient directory reads roles so)', async () => {
    const rows = await t.db.query<{ id: string }>(
      `SELECT DISTINCT id FROM fhir_search_index
        WHERE resource_type = ANY($4::text[])
          AND ((param = 'practitioner' AND reference = ANY($1::text[]))
            OR (param = 'identifier' AND system = $2 AND value = ANY($3::text[])))
        ORDER BY id`,
      [['Practitioner/Practitioner-7'], NPI_SYSTEM, ['1000000009'], ['PractitionerRole', 'Practitioner']],
      { prepared: true },
    );
    expect(rows.map((r) => r.id)).toEqual(['Practitioner-9', 'PractitionerRole-7']);
  });

  it('serves a date comparison on either bound from the date index', async () => {
    for (const condition of ['date_end > $1', 'date_start < $1']) {
      const plan = await genericPlan(
        `SELECT id FROM fhir_search_index WHERE resource_type = 'Encounter' AND param = 'date' AND ${condition}`,
        'timestamptz',
        `now() - interval '10 days'`,
      );
      expect(plan).toContain('fhir_search_index_date');
    }
  });
});
