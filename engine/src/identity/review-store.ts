/**
 * The identity decisions and the review queue, as rows: what analysts and merges decided about a
 * pair (kept for good), and the pairs waiting for an analyst. A pair is always stored in id
 * order, so (a, b) and (b, a) are one pair.
 */
import type { Queryable } from '../store/db';

/** The pair in stored order (a < b). */
export function orderedPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

export async function recordDecision(
  tx: Queryable,
  d: {
    readonly a: string;
    readonly b: string;
    readonly decision: 'link' | 'separate';
    readonly source: 'analyst' | 'merge';
    readonly decidedBy?: string;
    readonly reviewId?: string;
    readonly messageId?: string;
  },
): Promise<void> {
  const [a, b] = orderedPair(d.a, d.b);
  await tx.query(
    `INSERT INTO identity_decisions (patient_a, patient_b, decision, source, decided_by, review_id, message_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [a, b, d.decision, d.source, d.decidedBy ?? null, d.reviewId ?? null, d.messageId ?? null],
  );
}

export interface ReviewWrite {
  readonly a: string;
  readonly b: string;
  readonly weight: number;
  readonly reason: string;
  readonly breakdown: unknown;
}

/**
 * Opens a review for each pair no decision covers yet; an open review of the same pair is
 * refreshed with the newer score instead of duplicated.
 */
export async function openReviews(tx: Queryable, reviews: readonly ReviewWrite[]): Promise<void> {
  for (const r of reviews) {
    const [a, b] = orderedPair(r.a, r.b);
    await tx.query(
      `INSERT INTO identity_reviews (patient_a, patient_b, weight, reason, breakdown)
       SELECT $1, $2, $3, $4, $5
        WHERE NOT EXISTS (SELECT 1 FROM identity_decisions WHERE patient_a = $1 AND patient_b = $2)
       ON CONFLICT (patient_a, patient_b) WHERE status = 'open'
       DO UPDATE SET weight = EXCLUDED.weight, reason = EXCLUDED.reason, breakdown = EXCLUDED.breakdown,
          updated_at = now()`,
      [a, b, r.weight, r.reason, JSON.stringify(r.breakdown)],
    );
  }
}

/** The facility's merge settled the pair: an open review of it is closed as linked. */
export async function closeReviewsByMerge(
  tx: Queryable,
  merged: string,
  survivor: string,
  messageId: string | undefined,
): Promise<void> {
  const [a, b] = orderedPair(merged, survivor);
  await tx.query(
    `UPDATE identity_reviews SET status = 'linked', decided_by = $3, decided_at = now(), updated_at = now()
      WHERE patient_a = $1 AND patient_b = $2 AND status = 'open'`,
    [a, b, `merge${messageId === undefined ? '' : `:message/${messageId}`}`],
  );
}
