/**
 * Identity matching on hand-built FHIR Patients: the forms of a name, an address and a birth date
 * that still link (nickname, typo, compound surname, legacy upper case, swapped or transposed
 * birth date), twins kept apart, MRNs compared only within their assigning authority, and the
 * link decision's rules (same facility, ambiguous, separated, certain identifier, re-evaluation).
 */
import { describe, expect, it } from 'vitest';
import { blockingKeys } from '../../engine/src/identity/blocking-keys';
import { compareRecords, type Comparison } from '../../engine/src/identity/compare-fields';
import { demographicsOf, type Demographics } from '../../engine/src/identity/demographics';
import { decideLink, type DecisionInput, type LinkedRecord } from '../../engine/src/identity/link-decision';
import { outcomeOf, type PairScore } from '../../engine/src/identity/match-model';
import { scorePair } from '../../engine/src/identity/score-pair';
import type { JsonObject } from '../../engine/src/store/fhir-json';

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const MERCY = 'urn:oid:2.16.840.1.113883.3.1234';
const STJOHN = 'urn:oid:2.16.840.1.113883.3.5678';
const PAYER = 'urn:oid:2.16.840.1.113883.3.9999';
const THRESHOLDS = { link: 20, review: 10 } as const;
const CERTAIN: ReadonlySet<string> = new Set(['PE', 'MB', 'MA', 'MC']);

interface PatientSpec {
  readonly id: string;
  readonly system?: string;
  readonly mrn?: string;
  readonly family?: string;
  readonly given?: readonly string[];
  readonly gender?: string;
  readonly birthDate?: string;
  readonly line?: readonly string[];
  readonly postalCode?: string;
  readonly phone?: string | null;
  readonly memberId?: string;
  readonly active?: boolean;
}

/** A Patient shaped like the mapping's output (mappings/tests/adt-a01.fhir.json). */
function patient(s: PatientSpec): JsonObject {
  const identifier: JsonObject[] = [
    {
      type: { coding: [{ system: V2_0203, code: 'MR', display: 'Medical record number' }] },
      system: s.system ?? MERCY,
      value: s.mrn ?? `MRN-${s.id}`,
    },
  ];
  if (s.memberId !== undefined) {
    identifier.push({
      type: { coding: [{ system: V2_0203, code: 'MB', display: 'Member Number' }] },
      system: PAYER,
      value: s.memberId,
    });
  }
  return {
    resourceType: 'Patient',
    id: s.id,
    identifier,
    active: s.active ?? true,
    name: [{ use: 'official', family: s.family ?? 'Doe', given: [...(s.given ?? ['William', 'Q'])] }],
    ...(s.phone === null
      ? {}
      : { telecom: [{ system: 'phone', value: s.phone ?? '+1 (217) 5550100', use: 'home' }] }),
    gender: s.gender ?? 'male',
    ...(s.birthDate === undefined ? { birthDate: '1980-02-14' } : { birthDate: s.birthDate }),
    address: [
      {
        use: 'home',
        line: [...(s.line ?? ['12 Oak Lane'])],
        city: 'Springfield',
        state: 'IL',
        postalCode: s.postalCode ?? '62701',
      },
    ],
  };
}

const demo = (s: PatientSpec): Demographics => demographicsOf(patient(s));

function sharedKeys(a: Demographics, b: Demographics): string[] {
  const mine = new Set(blockingKeys(a, CERTAIN));
  return blockingKeys(b, CERTAIN).filter((k) => mine.has(k));
}

const linked = (
  d: Demographics,
  personId: string,
  reason: LinkedRecord['reason'] = 'founder',
): LinkedRecord => ({ demographics: d, personId, reason });

function input(record: Demographics, o: Partial<DecisionInput> = {}): DecisionInput {
  return {
    record,
    candidates: [],
    separated: new Set(),
    certainTypes: CERTAIN,
    thresholds: THRESHOLDS,
    ...o,
  };
}

describe('demographics of a Patient', () => {
  it('takes facility and MRN from the MR identifier and comparable forms of everything else', () => {
    const d = demographicsOf({
      ...patient({ id: 'p1', mrn: 'MRN123', family: 'Garcia-López', given: ['Zoë', 'Ann'] }),
      telecom: [
        { system: 'phone', value: '+1 (217) 555-0100 ext. 12' },
        { system: 'email', value: 'MAILTO:Zoe@Example.com' },
      ],
      address: [{ use: 'home', line: ['12 Oak Lane', 'Apt 4'], postalCode: '62701-1234' }],
    });
    expect(d).toMatchObject({
      patientId: 'p1',
      active: true,
      facility: MERCY,
      mrn: 'MRN123',
      given: ['ZOE', 'ANN'],
      families: ['GARCIALOPEZ'],
      familyParts: ['GARCIA', 'LOPEZ'],
      birthDate: '1980-02-14',
      sex: 'male',
      street: '12 OAK LN',
      postal: '62701',
      phones: ['2175550100'],
      email: 'zoe@example.com',
    });
  });

  it('ignores placeholder SSNs and keeps real ones', () => {
    const ssn = (value: string): string | undefined =>
      demographicsOf({
        ...patient({ id: 'p2' }),
        identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value }],
      }).ssn;
    expect(ssn('999-88-7777')).toBe('999887777');
    expect(ssn('123-45-6789')).toBeUndefined();
    expect(ssn('000-12-3456')).toBeUndefined();
    expect(ssn('111-11-1111')).toBeUndefined();
  });
});

/** Pairs of one person as two facilities record them: each must link (and share a block). */
const LINKING: readonly {
  readonly name: string;
  readonly a: Partial<PatientSpec>;
  readonly b: Partial<PatientSpec>;
  readonly expect: Comparison;
}[] = [
  {
    name: 'nickname (Bill for William), no phone at one facility',
    a: { given: ['William'] },
    b: { given: ['Bill'], phone: null },
    expect: { given: 'nickname', family: 'exact', birthDate: 'exact' },
  },
  {
    name: 'given-name transposition (Katherine / Katherien)',
    a: { given: ['Katherine'], gender: 'female' },
    b: { given: ['Katherien'], gender: 'female' },
    expect: { given: 'typo', family: 'exact' },
  },
  {
    name: 'given-name typo (Jonathan / Jonathon)',
    a: { given: ['Jonathan'] },
    b: { given: ['Jonathon'], line: ['12 Oak Ln', 'Apt 4'] },
    expect: { given: 'typo', address: 'street' },
  },
  {
    name: 'compound surname with and without spaces (Van der Berg / VanderBerg)',
    a: { family: 'Van der Berg', given: ['Anna'], gender: 'female' },
    b: { family: 'VanderBerg', given: ['Anna'], gender: 'female' },
    expect: { given: 'exact', family: 'exact' },
  },
  {
    name: 'one part of a compound surname (Garcia-Lopez / Garcia)',
    a: { family: 'Garcia-Lopez', given: ['Maria'], gender: 'female' },
    b: { family: 'Garcia', given: ['Maria'], gender: 'female' },
    expect: { family: 'compound', given: 'exact' },
  },
  {
    name: 'upper-case legacy feed without punctuation',
    a: { family: "O'Connor", given: ['Sean', 'Patrick'], line: ['12 Oak Lane'] },
    b: { family: 'OCONNOR', given: ['SEAN', 'PATRICK'], line: ['12 OAK LN'] },
    expect: { given: 'exact', family: 'exact', address: 'street' },
  },
  {
    name: 'day and month swapped in the birth date',
    a: { birthDate: '1980-03-04' },
    b: { birthDate: '1980-04-03' },
    expect: { birthDate: 'day-month-swap' },
  },
  {
    name: 'two digits of the birth year transposed (1958 / 1985)',
    a: { birthDate: '1958-06-12' },
    b: { birthDate: '1985-06-12' },
    expect: { birthDate: 'one-digit' },
  },
  {
    name: 'two digits of the birth day transposed (12 / 21)',
    a: { birthDate: '1985-06-12' },
    b: { birthDate: '1985-06-21', line: ['98 Elm Street'], postalCode: '62702' },
    expect: { birthDate: 'one-digit', address: 'disagree' },
  },
];

describe('pairs of one person link', () => {
  for (const c of LINKING) {
    it(c.name, () => {
      const a = demo({ id: 'a', system: MERCY, ...c.a });
      const b = demo({ id: 'b', system: STJOHN, ...c.b });
      expect(compareRecords(a, b)).toMatchObject(c.expect);
      const score = scorePair(a, b);
      expect(score.veto).toBeUndefined();
      expect(score.weight).toBeGreaterThanOrEqual(THRESHOLDS.link);
      expect(outcomeOf(score, THRESHOLDS)).toBe('link');
      // Symmetric: the record that arrives second does not change the answer.
      expect(scorePair(b, a).weight).toBe(score.weight);
      // A record is only compared with its block: the pair must share at least one key.
      expect(sharedKeys(a, b).length).toBeGreaterThan(0);
      const decision = decideLink(input(b, { candidates: [linked(a, 'person-a')] }));
      expect(decision).toMatchObject({
        kind: 'join',
        personId: 'person-a',
        reason: 'score',
        assurance: 'level3',
        evidence: { patientId: 'a' },
      });
    });
  }

  it('weighs a nickname less than the exact name, and a transposed date less than the exact one', () => {
    const a = demo({ id: 'a' });
    const exact = scorePair(a, demo({ id: 'b', system: STJOHN })).weight;
    expect(scorePair(a, demo({ id: 'b', system: STJOHN, given: ['Bill'] })).weight).toBeLessThan(exact);
    expect(scorePair(a, demo({ id: 'b', system: STJOHN, birthDate: '1908-02-14' })).weight).toBeLessThan(
      exact,
    );
  });
});

describe('pairs of different people stay apart', () => {
  const household = {
    family: 'Kowalczyk',
    birthDate: '2010-05-05',
    line: ['7 Birch Rd'],
    postalCode: '62704',
  };

  it('twins with different given names: vetoed as twins, apart, no review', () => {
    const a = demo({ id: 'a', ...household, given: ['Michael'] });
    const b = demo({ id: 'b', system: STJOHN, ...household, given: ['Matthew'] });
    const score = scorePair(a, b);
    expect(compareRecords(a, b)).toMatchObject({ given: 'disagree', birthDate: 'exact', phone: 'agree' });
    // Everything but the given name agrees: the sum alone would link.
    expect(score.weight).toBeGreaterThan(THRESHOLDS.link);
    expect(score.veto).toBe('twin');
    expect(outcomeOf(score, THRESHOLDS)).toBe('apart');
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toEqual({
      kind: 'alone',
      reviews: [],
    });
  });

  // Boy-girl twins are often given the two forms of one name.
  for (const [boy, girl] of [
    ['Daniel', 'Danielle'],
    ['Michael', 'Michelle'],
    ['Alexander', 'Alexandra'],
    ['Aaron', 'Erin'],
    ['Jon', 'Jan'],
  ] as const) {
    it(`boy-girl twins ${boy} and ${girl}: apart, no review`, () => {
      const a = demo({ id: 'a', ...household, given: [boy], gender: 'male' });
      const b = demo({ id: 'b', system: STJOHN, ...household, given: [girl], gender: 'female' });
      const score = scorePair(a, b);
      expect(score.veto).toBe('twin');
      expect(outcomeOf(score, THRESHOLDS)).toBe('apart');
      expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toEqual({
        kind: 'alone',
        reviews: [],
      });
    });
  }

  it('one person with the sex miskeyed at one facility still links (same given name)', () => {
    const a = demo({ id: 'a', ...household, given: ['Daniel'], gender: 'male' });
    const b = demo({ id: 'b', system: STJOHN, ...household, given: ['Daniel'], gender: 'female' });
    expect(outcomeOf(scorePair(a, b), THRESHOLDS)).toBe('link');
  });

  it('a different given name and birth date in one household: apart, no review', () => {
    const a = demo({ id: 'a' });
    const b = demo({ id: 'b', system: STJOHN, given: ['Robert'], birthDate: '1975-09-30' });
    const score = scorePair(a, b);
    expect(score.weight).toBeGreaterThanOrEqual(THRESHOLDS.review);
    expect(score.veto).toBe('household');
    expect(outcomeOf(score, THRESHOLDS)).toBe('apart');
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toEqual({
      kind: 'alone',
      reviews: [],
    });
  });

  it('a different given name with a birth date one digit off is at most a review', () => {
    const a = demo({ id: 'a' });
    const b = demo({ id: 'b', system: STJOHN, given: ['Robert'], birthDate: '1980-02-15' });
    const score = scorePair(a, b);
    expect(score.veto).toBe('given-name');
    expect(outcomeOf(score, THRESHOLDS)).toBe('review');
  });

  it('the same MRN value at two facilities says nothing: different people stay apart', () => {
    const a = demo({
      id: 'a',
      system: MERCY,
      mrn: 'X77',
      family: 'Smith',
      given: ['Alice'],
      gender: 'female',
    });
    const b = demo({
      id: 'b',
      system: STJOHN,
      mrn: 'X77',
      family: 'Jones',
      given: ['Robert'],
      birthDate: '1991-07-08',
      line: ['400 Lake Shore Dr'],
      postalCode: '60611',
      phone: '+1 (312) 5550177',
    });
    expect(a.mrn).toBe(b.mrn);
    expect(sharedKeys(a, b)).toEqual([]);
    expect(scorePair(a, b).weight).toBeLessThan(THRESHOLDS.review);
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toEqual({
      kind: 'alone',
      reviews: [],
    });
  });

  it('the same MRN value at two facilities is not a same-facility conflict', () => {
    const a = demo({ id: 'a', system: MERCY, mrn: 'X78' });
    const b = demo({ id: 'b', system: STJOHN, mrn: 'X78' });
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toMatchObject({
      kind: 'join',
      personId: 'person-a',
      reason: 'score',
    });
  });
});

describe('thresholds', () => {
  const score = (weight: number, veto?: PairScore['veto']): PairScore => ({ weight, fields: [], veto });

  it('links at the link threshold, reviews from the review threshold, vetoes cap at review', () => {
    expect(outcomeOf(score(20), THRESHOLDS)).toBe('link');
    expect(outcomeOf(score(19.99), THRESHOLDS)).toBe('review');
    expect(outcomeOf(score(10), THRESHOLDS)).toBe('review');
    expect(outcomeOf(score(9.99), THRESHOLDS)).toBe('apart');
    expect(outcomeOf(score(60, 'birth-date'), THRESHOLDS)).toBe('review');
    expect(outcomeOf(score(60, 'given-name'), THRESHOLDS)).toBe('review');
    expect(outcomeOf(score(60, 'ssn'), THRESHOLDS)).toBe('review');
    expect(outcomeOf(score(60, 'twin'), THRESHOLDS)).toBe('apart');
    expect(outcomeOf(score(60, 'household'), THRESHOLDS)).toBe('apart');
  });

  it('a pair with different birth dates goes to review, never links', () => {
    const a = demo({ id: 'a' });
    const b = demo({ id: 'b', system: STJOHN, birthDate: '1981-07-30' });
    const s = scorePair(a, b);
    expect(s).toMatchObject({ veto: 'birth-date' });
    expect(s.weight).toBeGreaterThanOrEqual(THRESHOLDS.link);
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toMatchObject({
      kind: 'alone',
      reviews: [{ patientId: 'a', personId: 'person-a', reason: 'vetoed' }],
    });
  });
});

describe('link decisions', () => {
  it('same facility, another MRN, matching demographics: review, not a link', () => {
    const a = demo({ id: 'a', system: MERCY, mrn: 'MRN1' });
    const b = demo({ id: 'b', system: MERCY, mrn: 'MRN2' });
    expect(outcomeOf(scorePair(a, b), THRESHOLDS)).toBe('link');
    const decision = decideLink(input(b, { candidates: [linked(a, 'person-a')] }));
    expect(decision.kind).toBe('alone');
    expect(decision.reviews).toEqual([
      expect.objectContaining({ patientId: 'a', personId: 'person-a', reason: 'same-facility' }),
    ]);
  });

  it('same facility without an assigning authority (no PID-3.4): still a review, not a link', () => {
    const noAuthority = (id: string, mrn: string): Demographics =>
      demographicsOf({
        ...patient({ id }),
        identifier: [{ type: { coding: [{ system: V2_0203, code: 'MR' }] }, value: mrn }],
        managingOrganization: { reference: 'Organization/mercy' },
      });
    const a = noAuthority('a', 'MRN1');
    const b = noAuthority('b', 'MRN2');
    expect(b).toMatchObject({ facility: 'Organization/mercy', mrn: 'MRN2' });
    const decision = decideLink(input(b, { candidates: [linked(a, 'person-a')] }));
    expect(decision).toMatchObject({ kind: 'alone', reviews: [{ patientId: 'a', reason: 'same-facility' }] });
  });

  // mappings/rules/patient.yaml fills a facility-assigned identifier's missing system from MSH-4
  // and names the sending facility as its assigner: a record stored before that and one after
  // are still one facility's, and two facilities filled so stay two.
  const filledFromMsh4 = (id: string, mrn: string, facility: string): Demographics =>
    demographicsOf({
      ...patient({ id }),
      identifier: [
        {
          type: { coding: [{ system: V2_0203, code: 'MR' }] },
          value: mrn,
          system: `urn:care:id:${facility.toUpperCase()}`,
          assigner: { reference: `Organization/${facility}` },
        },
      ],
      managingOrganization: { reference: `Organization/${facility}` },
    });

  it('an MRN whose system was filled from MSH-4 is the facility’s, as one stored without a system', () => {
    const stored = demographicsOf({
      ...patient({ id: 'a' }),
      identifier: [{ type: { coding: [{ system: V2_0203, code: 'MR' }] }, value: 'MRN1' }],
      managingOrganization: { reference: 'Organization/mercy' },
    });
    const filled = filledFromMsh4('b', 'MRN2', 'mercy');
    expect(filled).toMatchObject({ facility: stored.facility, mrn: 'MRN2' });
    const decision = decideLink(input(filled, { candidates: [linked(stored, 'person-a')] }));
    expect(decision).toMatchObject({ kind: 'alone', reviews: [{ patientId: 'a', reason: 'same-facility' }] });
  });

  it('the same MRN filled from MSH-4 at two facilities is not a same-facility conflict', () => {
    const a = filledFromMsh4('a', 'X78', 'mercy');
    const b = filledFromMsh4('b', 'X78', 'stjohn');
    expect(a.facility).not.toBe(b.facility);
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toMatchObject({
      kind: 'join',
      personId: 'person-a',
      reason: 'score',
    });
  });

  it('same facility anywhere in the person blocks the link, even when another facility matches', () => {
    const a = demo({ id: 'a', system: MERCY, mrn: 'MRN1' });
    const c = demo({ id: 'c', system: STJOHN, mrn: 'SJ1' });
    const b = demo({ id: 'b', system: MERCY, mrn: 'MRN2' });
    const decision = decideLink(
      input(b, { candidates: [linked(a, 'person-a'), linked(c, 'person-a', 'score')] }),
    );
    expect(decision).toMatchObject({ kind: 'alone', reviews: [{ reason: 'same-facility' }] });
  });

  it('two persons that both score a link: ambiguous, both reviewed, neither joined', () => {
    const a = demo({ id: 'a', system: MERCY });
    const c = demo({ id: 'c', system: 'urn:oid:2.16.840.1.113883.3.4444' });
    const b = demo({ id: 'b', system: STJOHN });
    const decision = decideLink(input(b, { candidates: [linked(a, 'person-a'), linked(c, 'person-c')] }));
    expect(decision.kind).toBe('alone');
    expect(decision.reviews.map((r) => [r.personId, r.reason]).sort()).toEqual([
      ['person-a', 'ambiguous'],
      ['person-c', 'ambiguous'],
    ]);
  });

  it('never joins a person holding a record the analyst separated from this one', () => {
    const a = demo({ id: 'a', system: MERCY });
    const c = demo({ id: 'c', system: 'urn:oid:2.16.840.1.113883.3.4444' });
    const b = demo({ id: 'b', system: STJOHN });
    // Even a perfect match in that person, and even another member that would link.
    const decision = decideLink(
      input(b, {
        candidates: [linked(a, 'person-a'), linked(c, 'person-a', 'score')],
        separated: new Set(['a']),
      }),
    );
    expect(decision).toEqual({ kind: 'alone', reviews: [] });
  });

  it('a shared payer member id (MB) joins at level4 as an identifier link', () => {
    const a = demo({ id: 'a', system: MERCY, memberId: 'BC123456' });
    // A moved patient with a nickname: the score alone would not link.
    const b = demo({
      id: 'b',
      system: STJOHN,
      memberId: 'BC123456',
      given: ['Bill'],
      birthDate: '1980-02-15',
      line: ['5 Main St'],
      postalCode: '60601',
      phone: '+1 (312) 5550111',
    });
    expect(outcomeOf(scorePair(a, b), THRESHOLDS)).not.toBe('link');
    expect(sharedKeys(a, b)).toContain(`id:${PAYER}|BC123456`);
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toMatchObject({
      kind: 'join',
      personId: 'person-a',
      reason: 'identifier',
      assurance: 'level4',
      evidence: { patientId: 'a' },
      reviews: [],
    });
  });

  it('a shared member id between twins is a conflict for review, not a link', () => {
    const a = demo({
      id: 'a',
      system: MERCY,
      memberId: 'BC999',
      given: ['Michael'],
      birthDate: '2012-01-01',
    });
    const b = demo({
      id: 'b',
      system: STJOHN,
      memberId: 'BC999',
      given: ['Matthew'],
      birthDate: '2012-01-01',
    });
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] }))).toMatchObject({
      kind: 'alone',
      reviews: [{ patientId: 'a', reason: 'identifier-conflict' }],
    });
  });

  it('an MR identifier is never a certain identifier across facilities', () => {
    const a = demo({ id: 'a', system: MERCY, mrn: 'SAME', given: ['Alice'], family: 'Smith' });
    const b = demo({ id: 'b', system: STJOHN, mrn: 'SAME', given: ['Bob'], family: 'Jones' });
    expect(blockingKeys(a, CERTAIN).some((k) => k.includes('SAME'))).toBe(false);
    expect(decideLink(input(b, { candidates: [linked(a, 'person-a')] })).kind).not.toBe('join');
  });
});

describe('re-evaluation of a record already linked', () => {
  const a = demo({ id: 'a', system: MERCY });

  it('stays while it still scores a link with its person', () => {
    const b = demo({ id: 'b', system: STJOHN, given: ['Bill'] });
    const decision = decideLink(
      input(b, {
        current: { personId: 'person-a', reason: 'score', members: [linked(a, 'person-a')] },
        candidates: [linked(a, 'person-a'), linked(b, 'person-a', 'score')],
      }),
    );
    expect(decision).toEqual({ kind: 'stay', reviews: [] });
  });

  it('leaves its person when its demographics no longer match (new given name and birth date)', () => {
    const b = demo({ id: 'b', system: STJOHN, given: ['Gregory'], birthDate: '1991-11-23' });
    const decision = decideLink(
      input(b, {
        current: { personId: 'person-a', reason: 'score', members: [linked(a, 'person-a')] },
        candidates: [linked(a, 'person-a'), linked(b, 'person-a', 'score')],
      }),
    );
    expect(decision.kind).toBe('alone');
  });

  it('leaves for a better person when it now matches another one', () => {
    const other = demo({ id: 'o', system: 'urn:oid:2.16.840.1.113883.3.4444', given: ['Gregory'] });
    const b = demo({ id: 'b', system: STJOHN, given: ['Gregory'], birthDate: '1980-02-14' });
    const decision = decideLink(
      input(b, {
        current: { personId: 'person-a', reason: 'score', members: [linked(a, 'person-a')] },
        candidates: [linked(a, 'person-a'), linked(other, 'person-o')],
      }),
    );
    expect(decision).toMatchObject({ kind: 'join', personId: 'person-o', reason: 'score' });
  });

  it('a record alone that is corrected to match joins the person', () => {
    const b = demo({ id: 'b', system: STJOHN });
    const decision = decideLink(
      input(b, {
        current: { personId: 'person-b', reason: 'founder', members: [] },
        candidates: [linked(a, 'person-a'), linked(b, 'person-b')],
      }),
    );
    expect(decision).toMatchObject({
      kind: 'join',
      personId: 'person-a',
      reason: 'score',
      assurance: 'level3',
    });
  });

  it('a record alone that still matches nobody stays where it is', () => {
    const b = demo({ id: 'b', system: STJOHN, family: 'Nguyen', given: ['Thi'], birthDate: '1999-09-09' });
    const decision = decideLink(
      input(b, { current: { personId: 'person-b', reason: 'founder', members: [] } }),
    );
    expect(decision).toEqual({ kind: 'stay', reviews: [] });
  });

  for (const reason of ['merge', 'analyst', 'identifier'] as const) {
    it(`a ${reason} link is never re-decided, however the demographics change`, () => {
      const b = demo({ id: 'b', system: STJOHN, given: ['Gregory'], birthDate: '1991-11-23' });
      const decision = decideLink(
        input(b, {
          current: { personId: 'person-a', reason, members: [linked(a, 'person-a')] },
          candidates: [linked(a, 'person-a')],
        }),
      );
      expect(decision).toEqual({ kind: 'stay', reviews: [] });
    });
  }

  it('a record alone does not join a person holding a record the analyst separated from it', () => {
    const b = demo({ id: 'b', system: STJOHN });
    const decision = decideLink(
      input(b, {
        current: { personId: 'person-b', reason: 'founder', members: [] },
        candidates: [linked(a, 'person-a')],
        separated: new Set(['a']),
      }),
    );
    expect(decision).toEqual({ kind: 'stay', reviews: [] });
  });
});
