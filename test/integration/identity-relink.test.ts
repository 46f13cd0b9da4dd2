/**
 * The full relink (`npm run identity:relink`) against what the pipeline linked: the same
 * decisions, person ids kept, merges and analysts' decisions never re-decided, a second run that
 * changes nothing, and a threshold change that the relink applies to score links only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityRules, type IdentityRules } from '../../engine/src/identity/link-patient';
import { relinkAll } from '../../engine/src/identity/relink';
import { decideReview } from '../../engine/src/identity/review-decisions';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;
let mllp: MllpTestClient;
let rules: IdentityRules;
let seq = 0;

interface Who {
  readonly facility: string;
  readonly mrn: string;
  readonly name: string;
  readonly dob: string;
  readonly sex: 'M' | 'F';
  readonly street: string;
  readonly phone: string;
}

function time(): string {
  const d = new Date(Date.UTC(2024, 3, 1, 8, 0) + ++seq * 60_000);
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 12)}00+0000`;
}

function adt(p: Who): string {
  const t = time();
  return [
    `MSH|^~\\&|EPIC|${p.facility}|CARE|CARE|${t}||ADT^A04^ADT_A01|RL${seq}|P|2.5.1`,
    `EVN|A04|${t}`,
    `PID|1||${p.mrn}^^^${p.facility}^MR||${p.name}||${p.dob}|${p.sex}|||${p.street}^^Springfield^IL^62704||^PRN^PH^^1^217^${p.phone}`,
    `PV1|1|O|CLINIC^1^1^${p.facility}||||||MED||||7|||||V${p.mrn}^^^${p.facility}^VN`,
  ].join('\r');
}

function a40(survivor: Who, merged: Who): string {
  const t = time();
  return [
    `MSH|^~\\&|MPI|${survivor.facility}|CARE|CARE|${t}||ADT^A40^ADT_A39|RL${seq}|P|2.5.1`,
    `EVN|A40|${t}`,
    `PID|1||${survivor.mrn}^^^${survivor.facility}^MR||${survivor.name}||${survivor.dob}|${survivor.sex}`,
    `MRG|${merged.mrn}^^^${merged.facility}^MR`,
  ].join('\r');
}

async function send(text: string): Promise<void> {
  const ack = await mllp.send(text);
  expect(ack.code).toBe('AA');
  await waitFor(async () => {
    const rows = await engine.db.query(
      `SELECT 1 FROM messages WHERE control_id = $1 AND status = 'processed'`,
      [ack.controlId],
    );
    return rows.length === 1;
  });
}

async function idOf(p: Who): Promise<string> {
  const [row] = await engine.db.query<{ id: string }>(
    `SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND resource->'identifier' @> $1::jsonb`,
    [JSON.stringify([{ value: p.mrn }])],
  );
  return row?.id ?? '';
}

async function links(): Promise<Map<string, { person: string; reason: string }>> {
  const rows = await engine.db.query<{ patient_id: string; person_id: string; reason: string }>(
    `SELECT patient_id, person_id, reason FROM identity_records`,
  );
  return new Map(rows.map((r) => [r.patient_id, { person: r.person_id, reason: r.reason }]));
}

const base = { street: '40 Elm Street', sex: 'M' as const };
const william = {
  ...base,
  facility: 'MERCY',
  mrn: 'RW1',
  name: 'Doe^William',
  dob: '19800214',
  phone: '5550140',
};
const bill = { ...base, facility: 'STJOHN', mrn: 'RB1', name: 'DOE^BILL', dob: '19800214', phone: '5550140' };
const carl = {
  ...base,
  facility: 'MERCY',
  mrn: 'RC1',
  name: 'Brown^Carl',
  dob: '19700505',
  phone: '5550170',
  street: '9 Oak Ln',
};
const carl2 = { ...carl, mrn: 'RC2' };
const tom = {
  ...base,
  facility: 'MERCY',
  mrn: 'RT1',
  name: 'Green^Tom',
  dob: '19650303',
  phone: '5550165',
  street: '2 Pine Rd',
};
const tom2 = { ...tom, mrn: 'RT2' };
const anna = {
  ...base,
  facility: 'MERCY',
  mrn: 'RA1',
  name: 'Smith^Anna',
  dob: '19900101',
  sex: 'F' as const,
  phone: '5550190',
  street: '5 Birch Dr',
};
const ella = { ...anna, mrn: 'RA2', name: 'Smith^Ella' };

beforeAll(async () => {
  engine = await startTestEngine();
  rules = identityRules(engine.config.identity);
  mllp = await MllpTestClient.connect(engine.mllpPort);
  for (const p of [william, bill, carl, carl2, tom, tom2, anna, ella]) await send(adt(p));
  await send(a40(carl, carl2));
  const [review] = await engine.db.query<{ id: string }>(
    `SELECT id::text AS id FROM identity_reviews WHERE status = 'open' AND $1 IN (patient_a, patient_b)`,
    [await idOf(tom)],
  );
  await engine.db.transaction((tx) => decideReview(tx, review?.id ?? '', 'separate', 'analyst-1'));
}, 60_000);

afterAll(async () => {
  mllp.close();
  await engine.destroy();
});

describe('identity relink', () => {
  it('decides as the pipeline did: same persons, same ids, nothing to change on a second run', async () => {
    const before = await links();
    const first = await relinkAll(engine.db, rules);
    expect(first.records).toBe(8);
    expect(await links()).toEqual(before);
    const second = await relinkAll(engine.db, rules);
    expect(second.changed).toBe(0);
    expect(await links()).toEqual(before);
  });

  it('keeps merges and analysts’ decisions, links by score, keeps twins apart', async () => {
    const l = await links();
    const of = async (p: Who) => l.get(await idOf(p));
    expect((await of(william))?.person).toBe((await of(bill))?.person);
    expect((await of(bill))?.reason).toBe('score');
    expect((await of(carl2))?.person).toBe((await of(carl))?.person);
    expect((await of(carl2))?.reason).toBe('merge');
    expect((await of(tom))?.person).not.toBe((await of(tom2))?.person);
    expect((await of(anna))?.person).not.toBe((await of(ella))?.person);
  });

  it('applies a threshold change to score links only, and back, keeping the person ids', async () => {
    const before = await links();
    const strict = { ...rules, thresholds: { link: 1000, review: 1000 } };
    const report = await relinkAll(engine.db, strict);
    expect(report.changed).toBeGreaterThan(0);
    const l = await links();
    const of = async (p: Who) => l.get(await idOf(p));
    expect((await of(william))?.person).not.toBe((await of(bill))?.person);
    expect((await of(william))?.person).toBe(before.get(await idOf(william))?.person);
    expect((await of(carl2))?.person).toBe((await of(carl))?.person);
    const [persons] = await engine.db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM identity_persons WHERE active`,
    );
    expect(Number(persons?.n)).toBe(7);
    await relinkAll(engine.db, rules);
    expect(await links()).toEqual(before);
    const [decisions] = await engine.db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM identity_reviews WHERE status = 'open' AND $1 IN (patient_a, patient_b)`,
      [await idOf(tom)],
    );
    expect(Number(decisions?.n)).toBe(0);
  });
});
