/**
 * Which person a set of demographics that is no stored record (a roster row, an EHR's launch
 * Patient) belongs to, by linking's rules, decided once so rosters and the EHR token exchange
 * can never disagree on whether a match is confident.
 */
import type { DemographicMatch } from './match-demographics';
import type { IdentityRules } from './link-patient';
import { APART_VETOES } from './match-model';

/**
 * - `matched`: exactly one person, by a shared certain identifier or by a score at the link
 *   threshold with no veto;
 * - `ambiguous`: more than one person qualifies, so none is chosen;
 * - `review`: nobody qualifies, but a candidate scores between the thresholds (or holds the
 *   identifier while the demographics say twin, household or below review);
 * - `none`: no candidate at all.
 */
export type PersonMatchDecision =
  | { readonly kind: 'matched'; readonly match: DemographicMatch; readonly basis: 'identifier' | 'score' }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly DemographicMatch[] }
  | { readonly kind: 'review'; readonly candidates: readonly DemographicMatch[] }
  | { readonly kind: 'none' };

const byWeight = (a: DemographicMatch, b: DemographicMatch): number => b.weight - a.weight;

/**
 * The person `matches` (one input's candidates, from matchDemographics) name: the person holding
 * the input's identifier (unless the demographics say twin or household, or score below
 * review), else a person whose best record scores a link. As in linking, the identifier wins
 * over persons matched on score. Candidates are given best first, one per person.
 */
export function decidePersonMatch(
  matches: readonly DemographicMatch[],
  rules: IdentityRules,
): PersonMatchDecision {
  const byPerson = new Map<string, DemographicMatch[]>();
  for (const m of matches) {
    const list = byPerson.get(m.personId) ?? [];
    list.push(m);
    byPerson.set(m.personId, list);
  }
  const byIdentifier: DemographicMatch[] = [];
  const linkable: DemographicMatch[] = [];
  const reviewable: DemographicMatch[] = [];
  for (const list of byPerson.values()) {
    const best = list.reduce((a, b) => (b.weight > a.weight ? b : a));
    const shared = list.find((m) => m.sharesIdentifier);
    if (shared !== undefined) {
      const veto = shared.score.veto;
      const conflict =
        (veto !== undefined && APART_VETOES.has(veto)) || shared.weight < rules.thresholds.review;
      (conflict ? reviewable : byIdentifier).push(shared);
    } else if (best.outcome === 'link') linkable.push(best);
    else if (best.outcome === 'review') reviewable.push(best);
  }
  const basis = byIdentifier.length > 0 ? 'identifier' : 'score';
  const qualified = (byIdentifier.length > 0 ? byIdentifier : linkable).sort(byWeight);
  const [first, second] = qualified;
  if (first !== undefined && second === undefined) return { kind: 'matched', match: first, basis };
  if (first !== undefined) return { kind: 'ambiguous', candidates: qualified };
  if (reviewable.length > 0) return { kind: 'review', candidates: reviewable.sort(byWeight) };
  return { kind: 'none' };
}
