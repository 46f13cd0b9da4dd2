/**
 * Which stored records a set of demographics names: the candidate search, scoring and grading
 * behind `Patient/$match`, shared with practice rosters, so a `$match` query and a roster row
 * with the same demographics find the same records with the same grades, scored by the linker.
 */
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { blockingKeys, certainIdentifiers } from './blocking-keys';
import { demographicsOf, type Demographics } from './demographics';
import type { IdentityRules } from './link-patient';
import {
  matchProbability,
  outcomeOf,
  type NameFrequencies,
  type PairOutcome,
  type PairScore,
} from './match-model';
import { scorePair } from './score-pair';

/** `$match`'s grades (http://hl7.org/fhir/StructureDefinition/match-grade), `certainly-not` left out. */
export type MatchGrade = 'certain' | 'probable' | 'possible';

/** One stored record the demographics may name, and how strongly. */
export interface DemographicMatch {
  readonly patientId: string;
  readonly personId: string;
  /** The match weight (sum of log2 likelihood ratios), as linking compares it with its thresholds. */
  readonly weight: number;
  /** The weight as the probability of a match, 0 to 1 (`$match`'s `search.score`). */
  readonly probability: number;
  readonly grade: MatchGrade;
  /** What linking would make of this pair on its score alone. */
  readonly outcome: PairOutcome;
  /** True when the pair shares an identifier that names one person (see `MatchOptions`). */
  readonly sharesIdentifier: boolean;
  readonly score: PairScore;
}

export interface MatchOptions {
  /**
   * Count every identifier of the input as naming its person, whatever its type: a roster's
   * `identifier` column is the practice's statement of who the row is. By default only the
   * certain identifier types (IDENTITY_CERTAIN_IDENTIFIER_TYPES) count, as in linking.
   */
  readonly anyIdentifier?: boolean;
  /**
   * Most records one blocking key yields, and most persons one input reaches (as in linking, a
   * key shared by thousands, such as a clinic's phone, is bounded).
   * @defaultValue 500
   */
  readonly limit?: number;
}

/**
 * A score this far above the link threshold (2^10, a thousand times the odds a link needs) is
 * `certain` without a shared identifier: no two different people in the model's tables agree so much.
 */
const CERTAIN_MARGIN_BITS = 10;

/** Inputs matched per round trip: one candidate read and one name-count read for the lot. */
const CHUNK = 100;

const DEFAULT_LIMIT = 500;

function gradeOf(score: PairScore, sharesIdentifier: boolean, rules: IdentityRules): MatchGrade | undefined {
  const result = outcomeOf(score, rules.thresholds);
  if (sharesIdentifier) return 'certain';
  if (result === 'link' && score.weight >= rules.thresholds.link + CERTAIN_MARGIN_BITS) return 'certain';
  if (result === 'link') return 'probable';
  return result === 'review' ? 'possible' : undefined;
}

function isDemographics(input: JsonObject | Demographics): input is Demographics {
  return typeof input['patientId'] === 'string' && Array.isArray(input['families']);
}

/**
 * A Patient in comparable form. It is no stored record: without an id of its own it can match
 * none by identity.
 */
function toDemographics(input: JsonObject | Demographics): Demographics {
  return isDemographics(input) ? input : demographicsOf({ ...input, id: '' });
}

/** `system|value` of the identifiers that count as naming the input's person. */
function identifiersOf(d: Demographics, rules: IdentityRules, o: MatchOptions): string[] {
  return o.anyIdentifier === true
    ? d.identifiers.map((i) => `${i.system}|${i.value}`)
    : certainIdentifiers(d, rules.certainTypes);
}

/**
 * The blocking keys that find the input's candidates: linking's own, plus an identifier key for
 * each identifier the input claims (which reaches stored records carrying it as a certain type).
 */
export function matchKeys(d: Demographics, rules: IdentityRules, o: MatchOptions = {}): string[] {
  const keys = new Set(blockingKeys(d, rules.certainTypes));
  for (const id of identifiersOf(d, rules, o)) keys.add(`id:${id}`);
  return [...keys];
}

/**
 * How many records carry each input's first given and family name, in one read, with the
 * planner's row count as the total (as `nameFrequencies` in identity-store.ts does for one record).
 */
async function nameCounts(tx: Queryable, inputs: readonly Demographics[]): Promise<NameFrequencies> {
  const kinds: string[] = [];
  const values: string[] = [];
  for (const d of inputs) {
    kinds.push('given', 'family');
    values.push(d.given[0] ?? '', d.families[0] ?? '');
  }
  const rows = await tx.query<{ kind: string; value: string; n: number }>(
    `SELECT kind, value, n FROM identity_name_counts
      WHERE (kind, value) IN (SELECT * FROM unnest($1::text[], $2::text[]))
     UNION ALL SELECT '*', '*', (SELECT GREATEST(reltuples, 0)::int FROM pg_class WHERE oid = 'identity_records'::regclass)`,
    [kinds, values],
  );
  const counts = new Map(rows.map((r) => [`${r.kind}\u0000${r.value}`, r.n]));
  return {
    total: counts.get('*\u0000*') ?? 0,
    count: (kind, value) => counts.get(`${kind}\u0000${value}`) ?? 0,
  };
}

/** A stored record as matching reads it, with the blocking keys it is stored under. */
interface Candidate {
  readonly demographics: Demographics;
  readonly personId: string;
  readonly blockKeys: readonly string[];
}

/**
 * Every record of every person that some record with one of `keys` belongs to: the batched form
 * of identity-store's `candidatesFor`, bounded per key (a key shared by thousands, such as a
 * clinic's phone, yields its first `perKey` records). Each key is looked up on its own, in a
 * lateral subquery: the engine's sessions plan generically (plan_cache_mode), and one overlap
 * test against hundreds of keys, or a join under one LIMIT, is then planned as a scan comparing
 * every record with every key, where a GIN lookup per key reads only the blocks.
 */
async function candidatesOf(tx: Queryable, keys: readonly string[], perKey: number): Promise<Candidate[]> {
  const rows = await tx.query<{ person_id: string; demographics: Demographics; block_keys: string[] }>(
    `WITH hit AS (
       SELECT DISTINCT h.person_id FROM unnest($1::text[]) AS k(key)
        CROSS JOIN LATERAL (
          SELECT r.person_id FROM identity_records r WHERE r.block_keys @> ARRAY[k.key] LIMIT $2) h)
     SELECT person_id, demographics, block_keys FROM identity_records
      WHERE person_id IN (SELECT person_id FROM hit)`,
    [keys, perKey],
  );
  return rows.map((r) => ({ demographics: r.demographics, personId: r.person_id, blockKeys: r.block_keys }));
}

/** Every active record of `records`, scored against `d` exactly as linking scores it, best first. */
function scoreAgainst(
  d: Demographics,
  records: readonly Candidate[],
  frequencies: NameFrequencies,
  rules: IdentityRules,
  o: MatchOptions,
): DemographicMatch[] {
  const mine = new Set(identifiersOf(d, rules, o));
  const out: DemographicMatch[] = [];
  for (const c of records) {
    const theirs = c.demographics;
    if (!theirs.active || (d.patientId !== '' && theirs.patientId === d.patientId)) continue;
    const score = scorePair(d, theirs, frequencies);
    const held =
      o.anyIdentifier === true
        ? theirs.identifiers.map((i) => `${i.system}|${i.value}`)
        : certainIdentifiers(theirs, rules.certainTypes);
    const sharesIdentifier = held.some((id) => mine.has(id));
    const grade = gradeOf(score, sharesIdentifier, rules);
    if (grade === undefined) continue;
    out.push({
      patientId: theirs.patientId,
      personId: c.personId,
      weight: score.weight,
      probability: matchProbability(score.weight),
      grade,
      outcome: outcomeOf(score, rules.thresholds),
      sharesIdentifier,
      score,
    });
  }
  return out.sort((a, b) => b.weight - a.weight || a.patientId.localeCompare(b.patientId));
}

async function matchChunk(
  tx: Queryable,
  inputs: readonly Demographics[],
  rules: IdentityRules,
  o: MatchOptions,
): Promise<DemographicMatch[][]> {
  const keysOf = inputs.map((d) => matchKeys(d, rules, o));
  const all = new Set(keysOf.flat());
  if (all.size === 0) return inputs.map(() => []);
  const perInput = o.limit ?? DEFAULT_LIMIT;
  const candidates = await candidatesOf(tx, [...all], perInput);
  const frequencies = await nameCounts(tx, inputs);
  const byKey = new Map<string, Set<string>>();
  const byPerson = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const list = byPerson.get(c.personId) ?? [];
    list.push(c);
    byPerson.set(c.personId, list);
    for (const key of c.blockKeys) {
      if (!all.has(key)) continue;
      const persons = byKey.get(key) ?? new Set<string>();
      persons.add(c.personId);
      byKey.set(key, persons);
    }
  }
  return inputs.map((d, i) => {
    const persons = new Set<string>();
    for (const key of keysOf[i] ?? []) for (const p of byKey.get(key) ?? []) persons.add(p);
    const records = [...persons].slice(0, perInput).flatMap((p) => byPerson.get(p) ?? []);
    return scoreAgainst(d, records, frequencies, rules, o);
  });
}

/**
 * The stored records each input may name, best first: every active record of every person its
 * blocking keys reach, scored by the linking model, graded as `$match` grades (records that
 * would be kept apart are left out).
 * @param inputs - Patients (never stored records: their ids are ignored) or demographics.
 * @returns one list per input, in input order.
 */
export async function matchDemographicsMany(
  tx: Queryable,
  inputs: readonly (JsonObject | Demographics)[],
  rules: IdentityRules,
  opts: MatchOptions = {},
): Promise<DemographicMatch[][]> {
  const out: DemographicMatch[][] = [];
  for (let i = 0; i < inputs.length; i += CHUNK) {
    const chunk = inputs.slice(i, i + CHUNK).map(toDemographics);
    out.push(...(await matchChunk(tx, chunk, rules, opts)));
  }
  return out;
}

/** The stored records one Patient (or set of demographics) may name, best first. */
export async function matchDemographics(
  tx: Queryable,
  input: JsonObject | Demographics,
  rules: IdentityRules,
  opts: MatchOptions = {},
): Promise<DemographicMatch[]> {
  const [matches] = await matchDemographicsMany(tx, [input], rules, opts);
  return matches ?? [];
}
