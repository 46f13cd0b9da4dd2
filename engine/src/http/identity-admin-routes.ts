/**
 * The identity analyst's API (`/api/identity`): the review queue of pairs the linker would not
 * decide alone, and the analyst's answer to one; and its EHR side (`ehr-reviews`), launch
 * Patients an EHR token exchange could not put on one person. Reviews show both records' demographics, so
 * every call is scoped and audited, one audit row per patient, like the rest of the admin API.
 * Scopes name the pseudo-type `IdentityReview` (as the message archive's name `Message`); the
 * queue also needs Patient read, since it returns Patients.
 */
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { AuditEvent } from '../auth/audit-log';
import { errorGuard } from '../errors/coded-error';
import type { IdentityConflictError } from '../identity/identity-error';
import { isReviewDecisionError } from '../identity/identity-error';
import type { FieldScore } from '../identity/match-model';
import { matchProbability } from '../identity/match-model';
import { listEhrReviews } from '../identity/ehr-review-store';
import { decideReview, type DecidedReview } from '../identity/review-decisions';
import type { Db, Queryable } from '../store/db';
import type { FhirResource } from '../store/fhir-types';
import { adminAccess } from './admin-access';
import { outcome, sendOutcome } from './operation-outcome';
import { decimalInt, parseParams } from './request-params';

export interface IdentityAdminDeps {
  readonly db: Db;
  /** Verifies the bearer token and leaves the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  /** The audit writer the admin API uses (auth runtime's `audit`). */
  readonly audit: (event: AuditEvent) => Promise<void>;
}

const REVIEW_TYPE = 'IdentityReview';
const STATUSES = ['open', 'linked', 'separated'] as const;

/** Largest review id accepted: fits bigint and a JavaScript number exactly. */
const MAX_REVIEW_ID = 999_999_999_999_999;

/** How many times a decision is retried when a concurrent link moved one of its persons. */
const DECISION_ATTEMPTS = 3;

const isIdentityConflict = errorGuard<IdentityConflictError>('IdentityConflictError');

/** `GET /api/identity/reviews`: unknown parameters refused, as elsewhere in the admin API. */
const listQuery = z.strictObject({
  status: z
    .enum(STATUSES, {
      error: (iss) =>
        Array.isArray(iss.input) ? 'must be given at most once' : `must be one of ${STATUSES.join(', ')}`,
    })
    .default('open'),
  _count: decimalInt(1, 500).default(50),
  offset: decimalInt(0, 1_000_000_000).default(0),
});

const EHR_STATUSES = ['open', 'matched'] as const;

/** `GET /api/identity/ehr-reviews`. */
const ehrListQuery = z.strictObject({
  status: z
    .enum(EHR_STATUSES, {
      error: (iss) =>
        Array.isArray(iss.input) ? 'must be given at most once' : `must be one of ${EHR_STATUSES.join(', ')}`,
    })
    .default('open'),
  _count: decimalInt(1, 500).default(50),
  offset: decimalInt(0, 1_000_000_000).default(0),
});

const reviewPath = z.object({ id: decimalInt(1, MAX_REVIEW_ID) });

const decisionBody = z.strictObject({
  decision: z.enum(['link', 'separate'], { error: 'must be "link" or "separate"' }),
});

/** One side of a review as the analyst sees it. */
interface ReviewSide {
  readonly patientId: string;
  /** Where the record is linked now; null when its record is gone. */
  readonly personId: string | null;
  /** The stored Patient; null when it was deleted since. */
  readonly patient: FhirResource | null;
}

interface ReviewRow {
  id: string;
  status: string;
  reason: string;
  weight: number;
  breakdown: { fields?: FieldScore[]; veto?: string | null };
  created_at: Date | string;
  decided_at: Date | string | null;
  decided_by: string | null;
  patient_a: string;
  person_a: string | null;
  resource_a: FhirResource | null;
  patient_b: string;
  person_b: string | null;
  resource_b: FhirResource | null;
}

const iso = (t: Date | string): string => (t instanceof Date ? t : new Date(t)).toISOString();

function toReview(r: ReviewRow): Record<string, unknown> {
  const side = (patientId: string, personId: string | null, patient: FhirResource | null): ReviewSide => ({
    patientId,
    personId,
    patient,
  });
  return {
    id: r.id,
    status: r.status,
    reason: r.reason,
    weight: r.weight,
    score: Math.round(matchProbability(r.weight) * 10_000) / 10_000,
    fields: r.breakdown.fields ?? [],
    veto: r.breakdown.veto ?? null,
    a: side(r.patient_a, r.person_a, r.resource_a),
    b: side(r.patient_b, r.person_b, r.resource_b),
    createdAt: iso(r.created_at),
    ...(r.decided_at !== null ? { decidedAt: iso(r.decided_at) } : {}),
    ...(r.decided_by !== null ? { decidedBy: r.decided_by } : {}),
  };
}

/** One page of reviews of `status`, newest first, with both records and the total. */
async function listReviews(
  db: Queryable,
  status: string,
  count: number,
  offset: number,
): Promise<{ rows: ReviewRow[]; total: number }> {
  const [counted] = await db.query<{ total: number }>(
    `SELECT count(*)::int AS total FROM identity_reviews WHERE status = $1`,
    [status],
  );
  const rows = await db.query<ReviewRow>(
    `SELECT v.id::text AS id, v.status, v.reason, v.weight, v.breakdown, v.created_at, v.decided_at, v.decided_by,
            v.patient_a, ra.person_id AS person_a, pa.resource AS resource_a,
            v.patient_b, rb.person_id AS person_b, pb.resource AS resource_b
       FROM identity_reviews v
       LEFT JOIN identity_records ra ON ra.patient_id = v.patient_a
       LEFT JOIN identity_records rb ON rb.patient_id = v.patient_b
       LEFT JOIN fhir_resources pa ON pa.resource_type = 'Patient' AND pa.id = v.patient_a AND NOT pa.deleted
       LEFT JOIN fhir_resources pb ON pb.resource_type = 'Patient' AND pb.id = v.patient_b AND NOT pb.deleted
      WHERE v.status = $1
      ORDER BY v.id DESC LIMIT $2 OFFSET $3`,
    [status, count, offset],
  );
  return { rows, total: counted?.total ?? 0 };
}

/** Routes mounted at `/api/identity`. */
export function createIdentityAdminRouter(deps: IdentityAdminDeps): Router {
  const router = express.Router();
  router.use(deps.authorize);

  // A review spans two patients: no patient-bound token may see or decide one.
  const { allowed, audit } = adminAccess(deps.audit, REVIEW_TYPE);

  router.get('/reviews', async (req, res) => {
    const ctx = await allowed(
      res,
      [
        [REVIEW_TYPE, 's'],
        ['Patient', 'r'],
      ],
      'search',
    );
    if (ctx === undefined) return;
    const q = parseParams(res, listQuery, req.query);
    if (q === undefined) return;
    const { rows, total } = await listReviews(deps.db, q.status, q._count, q.offset);
    await audit(
      ctx,
      {
        action: 'search',
        outcome: 'success',
        query: new URLSearchParams({ status: q.status, _count: String(q._count) }).toString(),
      },
      rows.flatMap((r) => [r.patient_a, r.patient_b]),
    );
    res.json({ reviews: rows.map(toReview), total });
  });

  // The EHR side: the launch Patient as the EHR sent it (what matching reads), and candidates by id.
  router.get('/ehr-reviews', async (req, res) => {
    const ctx = await allowed(
      res,
      [
        [REVIEW_TYPE, 's'],
        ['Patient', 'r'],
      ],
      'search',
    );
    if (ctx === undefined) return;
    const q = parseParams(res, ehrListQuery, req.query);
    if (q === undefined) return;
    const { reviews, total } = await listEhrReviews(deps.db, q.status, q._count, q.offset);
    await audit(
      ctx,
      {
        action: 'search',
        outcome: 'success',
        query: new URLSearchParams({ status: q.status, _count: String(q._count) }).toString(),
      },
      reviews.flatMap((r) => r.candidates.map((c) => c.patientId)),
    );
    res.json({ reviews, total });
  });

  router.post('/reviews/:id', express.json(), async (req, res) => {
    const ctx = await allowed(res, [[REVIEW_TYPE, 'u']], 'update');
    if (ctx === undefined) return;
    const path = parseParams(res, reviewPath, req.params);
    if (path === undefined) return;
    const body = parseParams(res, decisionBody, req.body);
    if (body === undefined) return;
    const reviewId = String(path.id);
    const analyst = ctx.subject ?? ctx.clientId;
    let decided: DecidedReview | undefined;
    for (let attempt = 1; decided === undefined; attempt++) {
      try {
        decided = await deps.db.transaction((tx) => decideReview(tx, reviewId, body.decision, analyst));
      } catch (err) {
        if (isIdentityConflict(err) && attempt < DECISION_ATTEMPTS) continue;
        if (isIdentityConflict(err)) {
          sendOutcome(res, outcome('transient', 'the records changed while deciding; try again'));
          return;
        }
        if (!isReviewDecisionError(err)) throw err;
        const status = err.code === 'review-not-found' ? 'not-found' : 'conflict';
        sendOutcome(res, outcome(status, err.message));
        return;
      }
    }
    await audit(ctx, { action: 'update', outcome: 'success', resourceId: reviewId }, decided.patients);
    res.json(decided);
  });

  router.use((req, res) => {
    sendOutcome(res, outcome('not-found', `no route for ${req.method} /api/identity${req.path}`));
  });
  return router;
}
