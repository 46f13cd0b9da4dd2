/**
 * Two matching records linked at the same moment, in two transactions that cannot see each
 * other: both found a person. The identity sweep's second look at founders joins them, and
 * leaves a founder with no match as it was.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../engine/src/config/schema';
import { identityRules, linkPatient } from '../../engine/src/identity/link-patient';
import { recheckFounders } from '../../engine/src/identity/link-sweep';
import type { Queryable } from '../../engine/src/store/db';
import { contentHash, type JsonObject } from '../../engine/src/store/fhir-json';
import { createTestDb, type TestDb } from '../helpers/test-db';

let t: TestDb;
const rules = identityRules(loadConfig({}).identity);

function patient(id: string, facility: string, mrn: string, given: string, family: string): JsonObject {
  return {
    resourceType: 'Patient',
    id,
    identifier: [{ type: { coding: [{ code: 'MR' }] }, system: `urn:oid:${facility}`, value: mrn }],
    name: [{ family, given: [given] }],
    gender: 'female',
    birthDate: '1975-06-30',
    address: [{ line: ['7 Cedar Court'], postalCode: '62702' }],
    telecom: [{ system: 'phone', value: '217-555-0175' }],
  };
}

async function store(tx: Queryable, p: JsonObject): Promise<void> {
  await tx.query(
    `INSERT INTO fhir_resources (resource_type, id, version_id, last_updated, event_time, deleted, content_hash, resource)
     VALUES ('Patient', $1, 1, now(), now(), false, $2, $3)`,
    [p['id'], contentHash(p), JSON.stringify(p)],
  );
}

async function personOf(id: string): Promise<{ person_id: string; reason: string } | undefined> {
  const [row] = await t.db.query<{ person_id: string; reason: string }>(
    `SELECT person_id, reason FROM identity_records WHERE patient_id = $1`,
    [id],
  );
  return row;
}

beforeAll(async () => {
  t = await createTestDb('idconc');
});
afterAll(async () => {
  await t.drop();
});

it('joins two matching records that founded persons concurrently, once both committed', async () => {
  const a = patient('a'.repeat(32), '1.1', 'A1', 'Margaret', 'Okafor');
  // A typo in the family name as well as the nickname: the name counts' rows differ, so B's
  // write does not wait on A's (two records of one surname serialize there, harmlessly).
  const b = patient('b'.repeat(32), '2.2', 'B1', 'MAGGIE', 'OKAFORR');
  const loner = patient('c'.repeat(32), '1.1', 'C1', 'Zelda', 'Quist');
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  // A is linked and its transaction held open while B is linked: B cannot see A.
  const first = t.db.transaction(async (tx) => {
    await store(tx, a);
    const r = await linkPatient(tx, a, rules, { orderKeys: [] });
    await held;
    return r.action;
  });
  const second = await t.db.transaction(async (tx) => {
    await store(tx, b);
    return (await linkPatient(tx, b, rules, { orderKeys: [] })).action;
  });
  release();
  expect([await first, second]).toEqual(['founded', 'founded']);
  await t.db.transaction(async (tx) => {
    await store(tx, loner);
    await linkPatient(tx, loner, rules, { orderKeys: [] });
  });
  expect((await personOf(a['id'] as string))?.person_id).not.toBe(
    (await personOf(b['id'] as string))?.person_id,
  );

  const joined = await recheckFounders(
    t.db,
    rules,
    new Date(Date.now() - 60_000),
    new Date(Date.now() + 1_000),
  );
  expect(joined).toBe(1);
  const [pa, pb, pc] = [
    await personOf(a['id'] as string),
    await personOf(b['id'] as string),
    await personOf(loner['id'] as string),
  ];
  expect(pa?.person_id).toBe(pb?.person_id);
  expect([pa?.reason, pb?.reason].sort()).toEqual(['founder', 'score']);
  expect(pc?.reason).toBe('founder');
  // A second look changes nothing more.
  expect(
    await recheckFounders(t.db, rules, new Date(Date.now() - 60_000), new Date(Date.now() + 1_000)),
  ).toBe(0);
  const [persons] = await t.db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM identity_persons WHERE active`,
  );
  expect(persons?.n).toBe('2');
});
