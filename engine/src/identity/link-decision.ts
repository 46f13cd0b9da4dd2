/**
 * Where one record belongs: the person it joins, a person of its own, or where it already is,
 * and which pairs an analyst should look at. Pure: the pipeline (one record, candidates from
 * the database) and a full relink (every record, candidates from memory) call this same
 * function, so both decide alike.
 *
 * The rules, in the order they apply:
 * - a link made by a merge, an analyst or a shared certain identifier is never re-decided;
 * - a record linked on its score stays only while it still scores a link with its person;
 * - a person holding a record the analyst separated from this one is never joined;
 * - a person holding another MRN of this record's facility is joined only on that facility's
 *   merge or an analyst's word: a match goes to review;
 * - a shared certain identifier (enterprise or payer) links, unless the demographics say twin
 *   or score below review;
 * - otherwise the best-scoring person above the link threshold is joined; any other person
 *   that also scores a link goes to review (ambiguous).
 */
import { certainIdentifiers } from './blocking-keys';
import type { Demographics } from './demographics';
import {
  APART_VETOES,
  outcomeOf,
  type NameFrequencies,
  type PairScore,
  type Thresholds,
} from './match-model';
import { scorePair } from './score-pair';

/** How a record came to be in its person. */
export type LinkReason = 'founder' | 'score' | 'identifier' | 'merge' | 'analyst';

/** Reasons that only an analyst may undo. */
export const CERTAIN_REASONS: ReadonlySet<LinkReason> = new Set(['identifier', 'merge', 'analyst']);

/** A record already linked somewhere. */
export interface LinkedRecord {
  readonly demographics: Demographics;
  readonly personId: string;
  readonly reason: LinkReason;
  /**
   * False for a record that shares no blocking key with the one being decided: it is there for
   * the rules about its person (same facility, separations), not scored. Undefined: scored.
   */
  readonly blockHit?: boolean;
}

export interface DecisionInput {
  readonly record: Demographics;
  /** Where the record is now, with the other records of that person; undefined for a new record. */
  readonly current?: {
    readonly personId: string;
    readonly reason: LinkReason;
    readonly members: readonly LinkedRecord[];
  };
  /** Records sharing a blocking key (any person, the record's own included or not). */
  readonly candidates: readonly LinkedRecord[];
  /** Patient ids an analyst decided are not this record's person. */
  readonly separated: ReadonlySet<string>;
  readonly certainTypes: ReadonlySet<string>;
  readonly thresholds: Thresholds;
  readonly frequencies?: NameFrequencies;
}

/** A pair for the review queue: this record and its best match in a person it did not join. */
export interface ReviewCandidate {
  readonly patientId: string;
  readonly personId: string;
  readonly score: PairScore;
  /** Why it is not linked automatically. */
  readonly reason: 'score' | 'same-facility' | 'ambiguous' | 'identifier-conflict' | 'vetoed';
}

export type LinkDecision =
  | { readonly kind: 'stay'; readonly reviews: readonly ReviewCandidate[] }
  | { readonly kind: 'alone'; readonly reviews: readonly ReviewCandidate[] }
  | {
      readonly kind: 'join';
      readonly personId: string;
      readonly assurance: 'level3' | 'level4';
      readonly reason: 'score' | 'identifier';
      /** The record that carried the decision and its score. */
      readonly evidence: { readonly patientId: string; readonly score: PairScore };
      readonly reviews: readonly ReviewCandidate[];
    };

interface PersonEvidence {
  readonly personId: string;
  readonly best: { readonly patientId: string; readonly score: PairScore } | undefined;
  readonly certain: { readonly patientId: string; readonly score: PairScore } | undefined;
  readonly sameFacilityConflict: boolean;
}

function sameFacilityOtherMrn(a: Demographics, b: Demographics): boolean {
  return a.facility !== undefined && a.facility === b.facility && a.mrn !== b.mrn;
}

function evidenceByPerson(
  input: DecisionInput,
  members: readonly LinkedRecord[],
  scoreAll = false,
): PersonEvidence[] {
  const { record } = input;
  const certain = new Set(certainIdentifiers(record, input.certainTypes));
  const byPerson = new Map<string, LinkedRecord[]>();
  for (const c of members) {
    if (c.demographics.patientId === record.patientId) continue;
    const list = byPerson.get(c.personId) ?? [];
    list.push(c);
    byPerson.set(c.personId, list);
  }
  const out: PersonEvidence[] = [];
  for (const [personId, list] of byPerson) {
    if (list.some((c) => input.separated.has(c.demographics.patientId))) continue;
    let best: PersonEvidence['best'];
    let shared: PersonEvidence['certain'];
    for (const c of list) {
      if (!c.demographics.active || (c.blockHit === false && !scoreAll)) continue;
      const score = scorePair(record, c.demographics, input.frequencies);
      if (best === undefined || score.weight > best.score.weight) {
        best = { patientId: c.demographics.patientId, score };
      }
      if (
        shared === undefined &&
        certainIdentifiers(c.demographics, input.certainTypes).some((id) => certain.has(id))
      ) {
        shared = { patientId: c.demographics.patientId, score };
      }
    }
    out.push({
      personId,
      best,
      certain: shared,
      sameFacilityConflict: list.some((c) => sameFacilityOtherMrn(record, c.demographics)),
    });
  }
  return out.sort((a, b) => (b.best?.score.weight ?? -Infinity) - (a.best?.score.weight ?? -Infinity));
}

/** True when the record still belongs with the other records of its person. */
function stillBelongs(input: DecisionInput, members: readonly LinkedRecord[]): boolean {
  // An analyst said one of them is someone else: a link made on a score does not outweigh that.
  if (members.some((m) => input.separated.has(m.demographics.patientId))) return false;
  const [mine] = evidenceByPerson(input, members, true);
  if (mine === undefined) return true;
  const veto = mine.certain?.score.veto;
  if (mine.certain !== undefined && (veto === undefined || !APART_VETOES.has(veto))) return true;
  return mine.best !== undefined && outcomeOf(mine.best.score, input.thresholds) === 'link';
}

export function decideLink(input: DecisionInput): LinkDecision {
  const { current, thresholds } = input;
  if (current !== undefined && CERTAIN_REASONS.has(current.reason)) return { kind: 'stay', reviews: [] };
  if (current !== undefined && current.members.length > 0 && stillBelongs(input, current.members)) {
    return { kind: 'stay', reviews: [] };
  }
  const others = input.candidates.filter((c) => c.personId !== current?.personId);
  const persons = evidenceByPerson(input, others);
  const reviews: ReviewCandidate[] = [];
  const review = (p: PersonEvidence, reason: ReviewCandidate['reason']): void => {
    const pick = p.certain ?? p.best;
    if (pick !== undefined) reviews.push({ ...pick, personId: p.personId, reason });
  };

  let joined: Extract<LinkDecision, { kind: 'join' }> | undefined;
  const linkable: PersonEvidence[] = [];
  for (const p of persons) {
    if (p.best === undefined) continue;
    const outcome = outcomeOf(p.best.score, thresholds);
    if (p.certain !== undefined) {
      const veto = p.certain.score.veto;
      const conflict =
        (veto !== undefined && APART_VETOES.has(veto)) || p.certain.score.weight < thresholds.review;
      if (p.sameFacilityConflict) review(p, 'same-facility');
      else if (conflict) review(p, 'identifier-conflict');
      else if (joined === undefined) {
        joined = {
          kind: 'join',
          personId: p.personId,
          assurance: 'level4',
          reason: 'identifier',
          evidence: p.certain,
          reviews,
        };
      } else review(p, 'ambiguous');
      continue;
    }
    if (outcome === 'link' && p.sameFacilityConflict) review(p, 'same-facility');
    else if (outcome === 'link') linkable.push(p);
    else if (outcome === 'review') review(p, p.best.score.veto === undefined ? 'score' : 'vetoed');
  }
  if (joined !== undefined) {
    for (const p of linkable) review(p, 'ambiguous');
    return joined;
  }
  const [first, second] = linkable;
  if (first?.best !== undefined && second === undefined) {
    return {
      kind: 'join',
      personId: first.personId,
      assurance: 'level3',
      reason: 'score',
      evidence: first.best,
      reviews,
    };
  }
  for (const p of linkable) review(p, 'ambiguous');
  const alone = current === undefined || current.members.length > 0;
  return alone ? { kind: 'alone', reviews } : { kind: 'stay', reviews };
}
