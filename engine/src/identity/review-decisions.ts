/**
 * An analyst's answer to a review: `link` makes the two records' persons one (a certain link,
 * level4, never re-decided automatically); `separate` keeps them apart for good, and if they were
 * linked on a score meanwhile, the record linked on the score leaves. Both are kept in
 * `identity_decisions` with who decided and when.
 */
import type { Queryable } from '../store/db';
import { IdentityConflictError, ReviewDecisionError } from './identity-error';
import {
  bumpPersons,
  createPersonFor,
  lockPersons,
  moveMembers,
  personMembers,
  readRecord,
  retireIfEmpty,
  setLinkReason,
  type IdentityRecord,
} from './identity-store';
import { recordDecision } from './review-store';
import { holdRelinkShared } from './relink-lock';

export type ReviewDecision = 'link' | 'separate';

export interface DecidedReview {
  readonly reviewId: string;
  readonly decision: ReviewDecision;
  readonly patients: readonly [string, string];
  /** The person each record is in afterwards. */
  readonly persons: readonly [string, string];
}

interface ReviewRow {
  id: string;
  patient_a: string;
  patient_b: string;
  status: string;
}

export async function decideReview(
  tx: Queryable,
  reviewId: string,
  decision: ReviewDecision,
  analyst: string,
): Promise<DecidedReview> {
  await holdRelinkShared(tx);
  const [review] = await tx.query<ReviewRow>(
    `SELECT id::text AS id, patient_a, patient_b, status FROM identity_reviews WHERE id = $1 FOR UPDATE`,
    [reviewId],
  );
  if (review === undefined) {
    throw new ReviewDecisionError('review-not-found', `review ${reviewId} does not exist`);
  }
  if (review.status !== 'open') {
    throw new ReviewDecisionError(
      'review-decided',
      `review ${reviewId} was already decided (${review.status})`,
    );
  }
  const a = await readRecord(tx, review.patient_a, true);
  const b = await readRecord(tx, review.patient_b, true);
  if (a === undefined || b === undefined) {
    throw new ReviewDecisionError('record-missing', `a record of review ${reviewId} is no longer stored`);
  }
  await lockLive(tx, [a.personId, b.personId]);
  const persons = decision === 'link' ? await link(tx, a, b) : await separate(tx, a, b);
  await recordDecision(tx, {
    a: review.patient_a,
    b: review.patient_b,
    decision,
    source: 'analyst',
    decidedBy: analyst,
    reviewId,
  });
  await tx.query(
    `UPDATE identity_reviews SET status = $2, decided_by = $3, decided_at = now(), updated_at = now() WHERE id = $1`,
    [reviewId, decision === 'link' ? 'linked' : 'separated', analyst],
  );
  return { reviewId, decision, patients: [review.patient_a, review.patient_b], persons };
}

async function lockLive(tx: Queryable, ids: readonly string[]): Promise<void> {
  const locked = await lockPersons(tx, ids);
  if (ids.some((id) => !locked.has(id))) throw new IdentityConflictError('a person changed while deciding');
}

async function link(tx: Queryable, a: IdentityRecord, b: IdentityRecord): Promise<[string, string]> {
  let target = a.personId;
  if (a.personId !== b.personId) {
    // Move the smaller person: fewer records change hands, the same result.
    const [inA, inB] = [await personMembers(tx, a.personId), await personMembers(tx, b.personId)];
    target = inB.length > inA.length ? b.personId : a.personId;
    const source = target === a.personId ? b.personId : a.personId;
    await moveMembers(tx, source, target);
    await retireIfEmpty(tx, source, target);
  }
  for (const r of [a, b]) await setLinkReason(tx, r.demographics.patientId, 'analyst', 'level4');
  await bumpPersons(tx, [target]);
  return [target, target];
}

async function separate(tx: Queryable, a: IdentityRecord, b: IdentityRecord): Promise<[string, string]> {
  if (a.personId !== b.personId) return [a.personId, b.personId];
  // Linked since the review opened: the record that came in on a score leaves.
  const leaving = b.reason === 'score' ? b : a.reason === 'score' ? a : undefined;
  if (leaving === undefined) {
    throw new ReviewDecisionError(
      'review-decided',
      'both records are linked by a merge, an identifier or an analyst: undo that link first',
    );
  }
  const personId = await createPersonFor(tx, leaving.demographics.patientId);
  await tx.query(
    `UPDATE identity_records SET person_id = $2, reason = 'founder', assurance = 'level4' WHERE patient_id = $1`,
    [leaving.demographics.patientId, personId],
  );
  await bumpPersons(tx, [a.personId]);
  return leaving === a ? [personId, b.personId] : [a.personId, personId];
}
