/**
 * Cross-facility identity through the real engine: HL7 v2 in over MLLP, Patients stored and
 * linked to persons in the processing transaction. Each case uses its own names, MRNs, phones
 * and birth dates, so the cases share one engine without meeting in a block.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkPatient, identityRules, type IdentityRules } from '../../engine/src/identity/link-patient';
import { linkUnlinked } from '../../engine/src/identity/link-sweep';
import { personOrderKeys } from '../../engine/src/identity/person-order-keys';
import { decideReview } from '../../engine/src/identity/review-decisions';
import { resetForReplay } from '../../engine/src/store/replay-reset';
import { applyBundle } from '../../engine/src/store/fhir-resource-store';
import type { TransactionBundle } from '../../engine/src/store/fhir-types';
import { queueArchivedMessage } from '../../engine/src/queue/process-queue';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;
let mllp: MllpTestClient;
let rules: IdentityRules;

interface Person {
  readonly facility: string;
  readonly mrn: string;
  readonly family: string;
  readonly given: string;
  /** YYYYMMDD */
  readonly dob: string;
  readonly sex: 'M' | 'F';
  readonly street: string;
  readonly zip: string;
  /** Seven digits after the 217 area code. */
  readonly phone: string;
}

let controlSeq = 0;
let minute = 0;

/** Event times that only go forward, so every update is newer than what the store holds. */
function nextTime(): string {
  minute++;
  const d = new Date(Date.UTC(2024, 2, 5, 15, 0) + minute * 60_000);
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 12)}00+0000`;
}

function adt(p: Person, o: { event?: string; controlId?: string; time?: string } = {}): string {
  const event = o.event ?? 'A01';
  const time = o.time ?? nextTime();
  const controlId = o.controlId ?? `ID${++controlSeq}`;
  return [
    `MSH|^~\\&|EPIC|${p.facility}|CARE|CARE|${time}||ADT^${event}^ADT_A01|${controlId}|P|2.5.1`,
    `EVN|${event}|${time}`,
    `PID|1||${p.mrn}^^^${p.facility}^MR||${p.family}^${p.given}^Q||${p.dob}|${p.sex}|||${p.street}^^Springfield^IL^${p.zip}||^PRN^PH^^1^217^${p.phone}`,
    `PV1|1|I|4W^401^B^${p.facility}||||||MED||||7|||||V${p.mrn}^^^${p.facility}^VN`,
  ].join('\r');
}

/** An A40 from `facility`: `survivor` keeps its record, `merged` is merged into it. */
function a40(survivor: Person, merged: Person): string {
  const time = nextTime();
  return [
    `MSH|^~\\&|MPI|${survivor.facility}|CARE|CARE|${time}||ADT^A40^ADT_A39|ID${++controlSeq}|P|2.5.1`,
    `EVN|A40|${time}`,
    `PID|1||${survivor.mrn}^^^${survivor.facility}^MR||${survivor.family}^${survivor.given}^Q||${survivor.dob}|${survivor.sex}`,
    `MRG|${merged.mrn}^^^${merged.facility}^MR`,
  ].join('\r');
}

async function waitProcessed(controlId: string): Promise<string> {
  let row: { id: string; status: string } | undefined;
  await waitFor(
    async () => {
      [row] = await engine.db.query<{ id: string; status: string }>(
        `SELECT id::text AS id, status FROM messages WHERE control_id = $1 AND status <> 'received'`,
        [controlId],
      );
      return row !== undefined;
    },
    20_000,
    `message ${controlId}`,
  );
  expect(row?.status).toBe('processed');
  return row?.id ?? '';
}

/** Sends one message, waits until it is processed; returns its archive id. */
async function send(text: string): Promise<string> {
  const ack = await mllp.send(text);
  expect(ack.code).toBe('AA');
  return waitProcessed(ack.controlId ?? '');
}

async function patientId(p: Pick<Person, 'facility' | 'mrn'>): Promise<string> {
  const rows = await engine.db.query<{ id: string }>(
    `SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND resource->'identifier' @> $1::jsonb`,
    [JSON.stringify([{ system: `urn:care:id:${p.facility}`, value: p.mrn }])],
  );
  expect(rows).toHaveLength(1);
  return rows[0]?.id ?? '';
}

interface RecordRow {
  person_id: string;
  reason: string;
  assurance: string;
}

async function recordOf(p: Pick<Person, 'facility' | 'mrn'>): Promise<RecordRow> {
  const id = await patientId(p);
  const [row] = await engine.db.query<RecordRow>(
    `SELECT person_id, reason, assurance FROM identity_records WHERE patient_id = $1`,
    [id],
  );
  expect(row, `identity record of ${p.facility}|${p.mrn}`).toBeDefined();
  return row as RecordRow;
}

interface ReviewRow {
  id: string;
  status: string;
  reason: string;
}

async function reviewsOf(a: Person, b: Person): Promise<ReviewRow[]> {
  const [x, y] = [await patientId(a), await patientId(b)].sort();
  return engine.db.query<ReviewRow>(
    `SELECT id::text AS id, status, reason FROM identity_reviews WHERE patient_a = $1 AND patient_b = $2 ORDER BY id`,
    [x, y],
  );
}

async function reviewsInvolving(ps: readonly Person[]): Promise<ReviewRow[]> {
  const ids = await Promise.all(ps.map((p) => patientId(p)));
  return engine.db.query<ReviewRow>(
    `SELECT id::text AS id, status, reason FROM identity_reviews
      WHERE patient_a = ANY($1::text[]) OR patient_b = ANY($1::text[])`,
    [ids],
  );
}

async function activePersons(): Promise<number> {
  const [row] = await engine.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM identity_persons WHERE active`,
  );
  return row?.n ?? -1;
}

async function decide(reviewId: string, decision: 'link' | 'separate'): Promise<void> {
  await engine.db.transaction((tx) => decideReview(tx, reviewId, decision, 'analyst1'));
}

const person = (o: Partial<Person> & Pick<Person, 'mrn' | 'family' | 'phone'>): Person => ({
  facility: 'MERCY',
  given: 'William',
  dob: '19800214',
  sex: 'M',
  street: '12 Oak Lane',
  zip: '62701',
  ...o,
});

beforeAll(async () => {
  // The engine's own unlinked-record sweep stays out of the way: the recovery case runs it.
  engine = await startTestEngine({ sweepIntervalMs: 600_000 });
  rules = identityRules(engine.config.identity);
  mllp = await MllpTestClient.connect(engine.mllpPort);
});
afterAll(async () => {
  mllp.close();
  await engine.destroy();
});

describe('identity linking through the engine', () => {
  const mercy = person({ mrn: 'NK-1', family: 'Hollister', phone: '5550101' });
  // The legacy feed of another facility: upper case, a nickname.
  const stjohn = person({
    facility: 'STJOHN',
    mrn: 'SJ-NK-1',
    family: 'HOLLISTER',
    given: 'BILL',
    street: '12 OAK LN',
    phone: '5550101',
  });

  it('links a nickname from an upper-case feed at another facility (score, level3)', async () => {
    await send(adt(mercy));
    const a = await recordOf(mercy);
    expect(a).toMatchObject({ reason: 'founder', assurance: 'level4' });
    await send(adt(stjohn));
    const b = await recordOf(stjohn);
    expect(b).toEqual({ person_id: a.person_id, reason: 'score', assurance: 'level3' });
    expect(await reviewsOf(mercy, stjohn)).toEqual([]);
  });

  it('orders on every record of the person: facility A’s key resolves to facility B’s too', async () => {
    const keys = await personOrderKeys({ patientKey: 'MERCY|NK-1', otherPatientKeys: [] }, engine.db);
    expect([...keys].sort()).toEqual(['MERCY|NK-1', 'STJOHN|SJ-NK-1']);
    const fromB = await personOrderKeys({ patientKey: 'STJOHN|SJ-NK-1', otherPatientKeys: [] }, engine.db);
    expect([...fromB].sort()).toEqual(['MERCY|NK-1', 'STJOHN|SJ-NK-1']);
    // A key no record carries is ordered on its own.
    expect(await personOrderKeys({ patientKey: 'MERCY|NOBODY', otherPatientKeys: [] }, engine.db)).toEqual([
      'MERCY|NOBODY',
    ]);
  });

  it('links a compound surname and a day/month-swapped birth date', async () => {
    const a = person({
      mrn: 'CS-1',
      family: 'Van der Berg',
      given: 'Anneke',
      sex: 'F',
      dob: '19750304',
      phone: '5550102',
      street: '3 Dune Rd',
    });
    const b = { ...a, facility: 'STJOHN', mrn: 'SJ-CS-1', family: 'VanderBerg', dob: '19750403' };
    const c = { ...a, facility: 'NORTHSIDE', mrn: 'NS-CS-1', family: 'Van der Berg', dob: '19570304' };
    await send(adt(a));
    await send(adt(b));
    await send(adt(c));
    const ra = await recordOf(a);
    expect(await recordOf(b)).toMatchObject({ person_id: ra.person_id, reason: 'score' });
    // Two digits of the year transposed (1975 / 1957).
    expect(await recordOf(c)).toMatchObject({ person_id: ra.person_id, reason: 'score' });
  });

  it('keeps twins apart, with no review: other given name, same sex or not', async () => {
    const household = {
      family: 'Kowalczyk',
      dob: '20100505',
      street: '7 Birch Rd',
      zip: '62704',
      phone: '5550103',
    };
    const daniel = person({ ...household, mrn: 'TW-1', given: 'Daniel', sex: 'M' });
    const matthew = person({ ...household, mrn: 'SJ-TW-2', facility: 'STJOHN', given: 'Matthew', sex: 'M' });
    const danielle = person({
      ...household,
      mrn: 'SJ-TW-3',
      facility: 'STJOHN',
      given: 'Danielle',
      sex: 'F',
    });
    for (const p of [daniel, matthew, danielle]) await send(adt(p));
    const persons = await Promise.all(
      [daniel, matthew, danielle].map(async (p) => (await recordOf(p)).person_id),
    );
    expect(new Set(persons).size).toBe(3);
    expect(await reviewsInvolving([daniel, matthew, danielle])).toEqual([]);
  });

  it('never links on an MRN value two facilities both use for different people', async () => {
    const alice = person({ mrn: 'X77', family: 'Abernathy', given: 'Alice', sex: 'F', phone: '5550104' });
    const robert = person({
      facility: 'STJOHN',
      mrn: 'X77',
      family: 'Quintero',
      given: 'Roberto',
      dob: '19910708',
      street: '400 Lake Shore Dr',
      zip: '60611',
      // The same contact phone (a group home's): they meet in a block, so they are compared.
      phone: '5550104',
    });
    await send(adt(alice));
    await send(adt(robert));
    expect(await patientId(alice)).not.toBe(await patientId(robert));
    expect((await recordOf(alice)).person_id).not.toBe((await recordOf(robert)).person_id);
    expect(await reviewsInvolving([alice, robert])).toEqual([]);
  });

  describe('one facility, two MRNs', () => {
    const first = person({ mrn: 'SF-1', family: 'Thorvaldsen', phone: '5550106' });
    const second = { ...first, mrn: 'SF-2' };

    it('does not link them automatically: opens a same-facility review', async () => {
      await send(adt(first));
      await send(adt(second));
      expect((await recordOf(first)).person_id).not.toBe((await recordOf(second)).person_id);
      expect(await reviewsOf(first, second)).toEqual([
        expect.objectContaining({ status: 'open', reason: 'same-facility' }),
      ]);
    });

    it('links them on that facility’s A40 merge (merge, level4)', async () => {
      await send(a40(first, second));
      const survivor = await recordOf(first);
      expect(await recordOf(second)).toEqual({
        person_id: survivor.person_id,
        reason: 'merge',
        assurance: 'level4',
      });
      // The merge is the facility's word on the pair: the survivor's link is certain too.
      expect(survivor).toMatchObject({ reason: 'merge', assurance: 'level4' });
      const [decision] = await engine.db.query<{ decision: string; source: string }>(
        `SELECT decision, source FROM identity_decisions WHERE $1 IN (patient_a, patient_b)`,
        [await patientId(second)],
      );
      expect(decision).toEqual({ decision: 'link', source: 'merge' });
    });

    it('keeps the merge when the survivor’s demographics change later', async () => {
      const before = await recordOf(first);
      // An address change, then a new given name and birth date: neither undoes the merge.
      await send(adt({ ...first, street: '90 Harbor Way', zip: '62703' }, { event: 'A08' }));
      expect((await recordOf(second)).person_id).toBe(before.person_id);
      expect((await recordOf(first)).person_id).toBe(before.person_id);
      await send(adt({ ...first, given: 'Gunnar', dob: '19660101' }, { event: 'A08' }));
      expect((await recordOf(first)).person_id).toBe(before.person_id);
      expect(await recordOf(second)).toMatchObject({ person_id: before.person_id, reason: 'merge' });
    });

    it('keeps the merge when the merged record’s demographics change later', async () => {
      const before = await recordOf(first);
      await send(adt({ ...second, given: 'Ingrid', sex: 'F', dob: '19700909' }, { event: 'A08' }));
      expect(await recordOf(second)).toMatchObject({ person_id: before.person_id, reason: 'merge' });
      // The message under the old MRN does not undo the merge: the record stays merged, and
      // the visit it carries is the survivor's.
      const [survivorId, mergedId] = [await patientId(first), await patientId(second)];
      const [merged] = await engine.db.query<{ resource: Record<string, unknown> }>(
        `SELECT resource FROM fhir_resources WHERE resource_type = 'Patient' AND id = $1`,
        [mergedId],
      );
      expect(merged?.resource).toMatchObject({
        active: false,
        link: [{ type: 'replaced-by', other: { reference: `Patient/${survivorId}` } }],
        name: [expect.objectContaining({ given: ['Ingrid', 'Q'] })],
      });
      const subjects = await engine.db.query<{ subject: string }>(
        `SELECT DISTINCT resource->'subject'->>'reference' AS subject FROM fhir_resources
          WHERE resource_type = 'Encounter' AND resource->'subject'->>'reference' IN ($1, $2)`,
        [`Patient/${survivorId}`, `Patient/${mergedId}`],
      );
      expect(subjects).toEqual([{ subject: `Patient/${survivorId}` }]);
    });
  });

  it('one facility without an assigning authority (no PID-3.4): still a same-facility review', async () => {
    const a = person({ mrn: 'NA-1', family: 'Vandermeer', given: 'Lucas', phone: '5550112' });
    const b = { ...a, mrn: 'NA-2' };
    const noAuthority = (p: Person): string =>
      adt(p).replace(`${p.mrn}^^^${p.facility}^MR`, `${p.mrn}^^^^MR`);
    await send(noAuthority(a));
    await send(noAuthority(b));
    const byValue = async (mrn: string): Promise<RecordRow | undefined> => {
      const [row] = await engine.db.query<RecordRow>(
        `SELECT r.person_id, r.reason, r.assurance FROM identity_records r
           JOIN fhir_resources p ON p.resource_type = 'Patient' AND p.id = r.patient_id
          WHERE p.resource->'identifier' @> $1::jsonb`,
        [JSON.stringify([{ value: mrn }])],
      );
      return row;
    };
    const [ra, rb] = [await byValue('NA-1'), await byValue('NA-2')];
    expect(ra).toMatchObject({ reason: 'founder' });
    expect(rb).toMatchObject({ reason: 'founder' });
    expect(rb?.person_id).not.toBe(ra?.person_id);
    const [review] = await engine.db.query<ReviewRow>(
      `SELECT id::text AS id, status, reason FROM identity_reviews r
        WHERE EXISTS (SELECT 1 FROM identity_records x WHERE x.patient_id = r.patient_a AND x.person_id = $1)
          AND EXISTS (SELECT 1 FROM identity_records y WHERE y.patient_id = r.patient_b AND y.person_id = $2)
           OR EXISTS (SELECT 1 FROM identity_records x WHERE x.patient_id = r.patient_a AND x.person_id = $2)
          AND EXISTS (SELECT 1 FROM identity_records y WHERE y.patient_id = r.patient_b AND y.person_id = $1)`,
      [ra?.person_id, rb?.person_id],
    );
    expect(review).toMatchObject({ status: 'open', reason: 'same-facility' });
  });

  describe('analyst decisions', () => {
    const a = person({ mrn: 'AL-1', family: 'Pemberton', given: 'Charles', phone: '5550107' });
    const b = { ...a, mrn: 'AL-2' };

    it('link: joins two records of one facility (analyst, level4), kept through later changes', async () => {
      await send(adt(a));
      await send(adt(b));
      const [review] = await reviewsOf(a, b);
      expect(review).toMatchObject({ status: 'open', reason: 'same-facility' });
      await decide(review?.id ?? '', 'link');
      const ra = await recordOf(a);
      expect(ra).toMatchObject({ reason: 'analyst', assurance: 'level4' });
      expect(await recordOf(b)).toEqual(ra);
      expect((await reviewsOf(a, b))[0]).toMatchObject({ status: 'linked' });

      await send(adt({ ...b, given: 'Edmund', dob: '19720707', street: '1 Pier St' }, { event: 'A08' }));
      expect(await recordOf(b)).toEqual(ra);
      await send(adt({ ...a, given: 'Percival', dob: '19550505' }, { event: 'A08' }));
      expect(await recordOf(a)).toEqual(ra);
      expect(await recordOf(b)).toEqual(ra);
    });

    const c = person({ mrn: 'SP-1', family: 'Okonkwo', given: 'Chidi', phone: '5550108' });
    // Another facility, a birth date that disagrees: a review, not a link.
    const d = { ...c, facility: 'STJOHN', mrn: 'SJ-SP-1', dob: '19830917' };

    it('separate: later messages never link the pair, even when they match exactly', async () => {
      await send(adt(c));
      await send(adt(d));
      const [review] = await reviewsOf(c, d);
      expect(review).toMatchObject({ status: 'open', reason: 'vetoed' });
      expect((await recordOf(c)).person_id).not.toBe((await recordOf(d)).person_id);
      await decide(review?.id ?? '', 'separate');
      expect((await reviewsOf(c, d))[0]).toMatchObject({ status: 'separated' });

      // Corrected to the same birth date: scores far above the link threshold, still apart.
      await send(adt({ ...d, dob: c.dob }, { event: 'A08' }));
      await send(adt({ ...c, street: '2 New Rd' }, { event: 'A08' }));
      await send(adt({ ...c, street: '12 Oak Lane' }, { event: 'A08' }));
      const [rc, rd] = [await recordOf(c), await recordOf(d)];
      expect(rc.person_id).not.toBe(rd.person_id);
      expect(rd).toMatchObject({ reason: 'founder' });
      // And no new review of a pair the analyst decided.
      expect((await reviewsOf(c, d)).map((r) => r.status)).toEqual(['separated']);
    });
  });

  describe('re-evaluation after an update', () => {
    const a = person({ mrn: 'RE-1', family: 'Castellanos', given: 'Rafael', phone: '5550109' });
    const b = { ...a, facility: 'STJOHN', mrn: 'SJ-RE-1' };

    it('a record linked on its score leaves the person when it no longer matches', async () => {
      await send(adt(a));
      await send(adt(b));
      const ra = await recordOf(a);
      expect(await recordOf(b)).toMatchObject({ person_id: ra.person_id, reason: 'score' });
      await send(adt({ ...b, given: 'Esteban', dob: '19920312' }, { event: 'A08' }));
      const rb = await recordOf(b);
      expect(rb.person_id).not.toBe(ra.person_id);
      expect(rb).toMatchObject({ reason: 'founder', assurance: 'level4' });
      expect((await recordOf(a)).person_id).toBe(ra.person_id);
    });

    it('a record that did not match at first joins once corrected', async () => {
      const c = { ...a, facility: 'NORTHSIDE', mrn: 'NS-RE-1', given: 'Ignacio', dob: '19611130' };
      await send(adt(c));
      const ra = await recordOf(a);
      expect((await recordOf(c)).person_id).not.toBe(ra.person_id);
      const personsBefore = await activePersons();
      await send(adt({ ...c, given: a.given, dob: a.dob }, { event: 'A08' }));
      expect(await recordOf(c)).toMatchObject({
        person_id: ra.person_id,
        reason: 'score',
        assurance: 'level3',
      });
      // Its own person, now empty, is retired.
      expect(await activePersons()).toBe(personsBefore - 1);
    });
  });

  describe('replay', () => {
    const a = person({ mrn: 'RP-1', family: 'Lindqvist', given: 'Astrid', sex: 'F', phone: '5550110' });
    const b = { ...a, facility: 'STJOHN', mrn: 'SJ-RP-1' };

    it('replaying a message (resent, or replayed from the archive) creates no second person', async () => {
      const first = adt(a, { controlId: 'RP-A' });
      const messageId = await send(first);
      await send(adt(b));
      const [ra, rb] = [await recordOf(a), await recordOf(b)];
      expect(rb.person_id).toBe(ra.person_id);
      const persons = await activePersons();
      const [records] = await engine.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM identity_records`,
      );

      // The same content under a new control id, as a resending interface does.
      await send(first.replace('|RP-A|', '|RP-A-again|'));
      // And the archived message replayed, as the admin API does.
      const [ref] = await resetForReplay(engine.db, [messageId]);
      expect(ref).toBeDefined();
      if (ref !== undefined) {
        await queueArchivedMessage(engine.queue, ref, { controlId: 'RP-A', suffix: '-replay' });
      }
      await waitProcessed('RP-A');

      expect(await activePersons()).toBe(persons);
      expect(await engine.db.query(`SELECT count(*)::int AS n FROM identity_records`)).toEqual([records]);
      expect(await recordOf(a)).toEqual(ra);
      expect(await recordOf(b)).toEqual(rb);
    });
  });

  describe('recovery', () => {
    const a = person({ mrn: 'RC-1', family: 'Fairweather', given: 'Oliver', phone: '5550111' });
    const b = { ...a, facility: 'STJOHN', mrn: 'SJ-RC-1' };

    it('links a Patient whose identity record is missing, into the person it matches', async () => {
      await send(adt(a));
      await send(adt(b));
      const ra = await recordOf(a);
      const idB = await patientId(b);
      await engine.db.query(`DELETE FROM identity_records WHERE patient_id = $1`, [idB]);
      expect(await linkUnlinked(engine.db, rules)).toBeGreaterThanOrEqual(1);
      expect(await recordOf(b)).toMatchObject({ person_id: ra.person_id, reason: 'score' });
    });

    it('links a Patient the store wrote without linking; no Patient is left unlinked', async () => {
      const ra = await recordOf(a);
      const id = 'c0ffee00c0ffee00c0ffee00c0ffee00';
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: `Patient/${id}`,
            resource: {
              resourceType: 'Patient',
              id,
              identifier: [
                {
                  type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
                  system: 'urn:care:id:NORTHSIDE',
                  value: 'NS-RC-1',
                },
              ],
              active: true,
              name: [{ family: 'FAIRWEATHER', given: ['OLIVER'] }],
              gender: 'male',
              birthDate: '1980-02-14',
              address: [{ line: ['12 Oak Ln'], postalCode: '62701' }],
              telecom: [{ system: 'phone', value: '(217) 555-0111' }],
            },
            request: { method: 'PUT', url: `Patient/${id}` },
          },
        ],
      } as unknown as TransactionBundle;
      await engine.db.transaction((tx) =>
        applyBundle(tx, bundle, { eventTime: '2024-03-05T10:00:00Z', messageId: 'test-direct' }),
      );
      const [missing] = await engine.db.query(`SELECT 1 FROM identity_records WHERE patient_id = $1`, [id]);
      expect(missing).toBeUndefined();
      expect(await linkUnlinked(engine.db, rules)).toBeGreaterThanOrEqual(1);
      const [row] = await engine.db.query<RecordRow>(
        `SELECT person_id, reason, assurance FROM identity_records WHERE patient_id = $1`,
        [id],
      );
      expect(row).toEqual({ person_id: ra.person_id, reason: 'score', assurance: 'level3' });
      const unlinked = await engine.db.query(
        `SELECT p.id FROM fhir_resources p WHERE p.resource_type = 'Patient' AND NOT p.deleted
            AND NOT EXISTS (SELECT 1 FROM identity_records r WHERE r.patient_id = p.id)`,
      );
      expect(unlinked).toEqual([]);
      // Linking the same Patient again changes nothing.
      const [stored] = await engine.db.query<{ resource: Record<string, unknown> }>(
        `SELECT resource FROM fhir_resources WHERE resource_type = 'Patient' AND id = $1`,
        [id],
      );
      const again = await engine.db.transaction((tx) =>
        linkPatient(tx, { ...(stored?.resource ?? {}), id }, rules, { orderKeys: [] }),
      );
      expect(again).toMatchObject({ action: 'unchanged', personId: ra.person_id });
    });
  });
});
