/**
 * The delivery log over HTTP (`/api/deliveries`): every notice with its recipient, why it was
 * sent, each attempt's status and latency, and where it stands; and a retry for one that ended
 * in dead-letter once its endpoint is fixed. Notices name patients, so reads are audited per
 * patient; scopes name the pseudo-type `Delivery`.
 */
import express, { type Response, type RequestHandler, type Router } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { type AccessContext, type Interaction } from '../auth/access-context';
import type { AuditEvent } from '../auth/audit-log';
import { relayNotices } from '../pipeline/relay-notices';
import type { DeliverJobData } from '../queue/deliver-queue';
import type { Db } from '../store/db';
import {
  findNotices,
  readAttempts,
  readNotice,
  reopenNotice,
  type NoticeRow,
} from '../store/notification-store';
import { adminAccess } from './admin-access';
import { outcome, sendOutcome } from './operation-outcome';
import { decimalInt, parseParams, safeText } from './request-params';

export interface DeliveryRouteDeps {
  readonly db: Db;
  readonly deliverQueue: Queue<DeliverJobData>;
  readonly authorize: RequestHandler;
  readonly audit: (event: AuditEvent) => Promise<void>;
}

const DELIVERY_TYPE = 'Delivery';
const MAX_ID = 999_999_999_999_999;
const STATUSES = ['pending', 'delivered', 'retrying', 'failed'] as const;
const REF = /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

const listQuery = z.strictObject({
  status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` }).optional(),
  endpoint: safeText(200)
    .refine((v) => REF.test(v), 'must be a reference such as Endpoint/abc')
    .optional(),
  patient: safeText(200)
    .refine((v) => REF.test(v) && v.startsWith('Patient/'), 'must be Patient/<id>')
    .optional(),
  event: safeText(300).optional(),
  before: decimalInt(1, MAX_ID).optional(),
  _count: decimalInt(1, 500).default(50),
});

const idPath = z.object({ id: decimalInt(1, MAX_ID) });

function view(n: NoticeRow, attempts: readonly unknown[]): Record<string, unknown> {
  return {
    id: n.id,
    noticeId: n.noticeId,
    event: {
      key: n.eventKey,
      kind: n.kind,
      focus: n.payload['focus'],
      correction: n.payload['correction'] === true,
    },
    patient: n.patientRef,
    channel: n.channel,
    target: n.target,
    reasons: n.reasons,
    ...(n.eventNumber !== null ? { eventNumber: n.eventNumber } : {}),
    status: n.status,
    attempts: n.attempts,
    lastStatusCode: n.lastStatusCode,
    lastError: n.lastError,
    createdAt: n.createdAt.toISOString(),
    deliveredAt: n.deliveredAt?.toISOString() ?? null,
    log: attempts,
  };
}

export function createDeliveryRouter(deps: DeliveryRouteDeps): Router {
  const router = express.Router();
  router.use(deps.authorize);

  const access = adminAccess(deps.audit, DELIVERY_TYPE);
  const allowed = (res: Response, interaction: Interaction, action: AuditEvent['action']) =>
    access.allowed(res, [[DELIVERY_TYPE, interaction]], action);
  /** Notices name patients: one audit row per patient. */
  const audit = (
    ctx: AccessContext,
    action: AuditEvent['action'],
    rows: readonly NoticeRow[],
    query?: string,
  ) =>
    access.audit(
      ctx,
      { action, outcome: 'success', ...(query !== undefined ? { query } : {}) },
      rows.flatMap((r) => (r.patientRef?.startsWith('Patient/') === true ? [r.patientRef.slice(8)] : [])),
    );

  router.get('/', async (req, res) => {
    const ctx = await allowed(res, 's', 'search');
    if (ctx === undefined) return;
    const q = parseParams(res, listQuery, req.query);
    if (q === undefined) return;
    const rows = await findNotices(deps.db, {
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.endpoint !== undefined ? { target: q.endpoint } : {}),
      ...(q.patient !== undefined ? { patient: q.patient } : {}),
      ...(q.event !== undefined ? { eventKey: q.event } : {}),
      ...(q.before !== undefined ? { before: String(q.before) } : {}),
      limit: q._count,
    });
    const log = await readAttempts(
      deps.db,
      rows.map((r) => r.id),
    );
    await audit(ctx, 'search', rows, new URLSearchParams(req.query as Record<string, string>).toString());
    const last = rows.at(-1);
    res.json({
      deliveries: rows.map((r) => view(r, log.get(r.id) ?? [])),
      ...(rows.length === q._count && last !== undefined ? { next: { before: last.id } } : {}),
    });
  });

  router.get('/:id', async (req, res) => {
    const ctx = await allowed(res, 'r', 'read');
    if (ctx === undefined) return;
    const path = parseParams(res, idPath, req.params);
    if (path === undefined) return;
    const row = await readNotice(deps.db, String(path.id));
    if (row === undefined) {
      sendOutcome(res, outcome('not-found', `no delivery ${path.id}`));
      return;
    }
    const log = await readAttempts(deps.db, [row.id]);
    await audit(ctx, 'read', [row]);
    res.json(view(row, log.get(row.id) ?? []));
  });

  router.post('/:id/retry', async (req, res) => {
    const ctx = await allowed(res, 'u', 'update');
    if (ctx === undefined) return;
    const path = parseParams(res, idPath, req.params);
    if (path === undefined) return;
    const id = String(path.id);
    const ref = await reopenNotice(deps.db, id);
    if (ref === undefined) {
      const row = await readNotice(deps.db, id);
      sendOutcome(
        res,
        row === undefined
          ? outcome('not-found', `no delivery ${id}`)
          : outcome('conflict', `delivery ${id} is ${row.status}; only a failed one is retried`),
      );
      return;
    }
    await relayNotices(deps.db, deps.deliverQueue, [ref], `retry-${id}`);
    const row = await readNotice(deps.db, id);
    if (row !== undefined) await audit(ctx, 'update', [row]);
    res.status(202).json({ id, status: 'pending', round: ref.round });
  });

  router.use((req, res) => {
    sendOutcome(res, outcome('not-found', `no route for ${req.method} /api/deliveries${req.path}`));
  });
  return router;
}
