/**
 * Bulk replay over HTTP (`/api/messages/replay`): after a mapping fix, an analyst replays a
 * selection or a whole error group. The request is checked and resolved to message ids here (a
 * filter is paged through the archive search), then one BullMQ job does the work and reports
 * progress; the answer is 202 with the job's id. Audited as one `operation` on `Message` whose
 * resource id is the job id.
 */
import express, { type RequestHandler, type Router } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { AuditEvent } from '../auth/audit-log';
import { recordedProgress } from '../pipeline/bulk-replay';
import { newReplayJobId, REPLAY_JOB_ID_RE, type ReplayJobData } from '../queue/replay-queue';
import type { Db } from '../store/db';
import { MessageStatus } from '../store/message-archive';
import { findMessages, type MessageFilter } from '../store/message-query';
import { compareIds } from '../store/replay-reset';
import { adminAccess } from './admin-access';
import { errorKeyParam, patientNameQuery, UNTIL_AFTER_SINCE, untilAfterSince } from './message-filter-params';
import { outcome, sendOutcome } from './operation-outcome';
import { isoInstant, MAX_FILTER_LENGTH, messageId, parseParams, safeText } from './request-params';

/** Most ids one request may name. */
export const MAX_REPLAY_IDS = 10_000;
/** Most messages a filter may resolve to; a wider one is refused, to be narrowed (by date). */
export const MAX_REPLAY_FILTER = 100_000;
/** Room for MAX_REPLAY_IDS ids of 19 digits, quoted, with a filter's worth to spare. */
const MAX_BODY = '512kb';

export interface ReplayRouteDeps {
  readonly db: Db;
  readonly replayQueue: Queue<ReplayJobData>;
  readonly authorize: RequestHandler;
  readonly audit: (event: AuditEvent) => Promise<void>;
}

const STATUSES = Object.values(MessageStatus);

/** The filters of `GET /api/messages` except paging, as JSON values. */
const replayFilter = z
  .strictObject({
    sender: safeText(MAX_FILTER_LENGTH).optional(),
    type: safeText(7)
      .refine((v) => /^[A-Z0-9]{3}(\^[A-Z0-9]{3})?$/.test(v), 'must be a message type: ADT or ADT^A01')
      .optional(),
    status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` }).optional(),
    controlId: safeText(MAX_FILTER_LENGTH).optional(),
    patient: safeText(MAX_FILTER_LENGTH).optional(),
    name: patientNameQuery.optional(),
    since: isoInstant.optional(),
    until: isoInstant.optional(),
    errorKey: errorKeyParam.optional(),
  })
  // A replay of the whole archive is never what an empty filter meant.
  .refine((f) => Object.values(f).some((v) => v !== undefined), 'must name at least one filter field')
  .refine(untilAfterSince, UNTIL_AFTER_SINCE);

/** A message id as JSON: a decimal string or a whole number. */
const idValue = z.union([
  messageId,
  z
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .transform((n) => String(n)),
]);

const replayBody = z
  .strictObject(
    {
      ids: z
        .array(idValue, { error: 'must be a list of message ids' })
        .min(1, 'must name at least one message')
        .max(MAX_REPLAY_IDS, `must name at most ${MAX_REPLAY_IDS} messages`)
        .optional(),
      filter: replayFilter.optional(),
    },
    { error: 'the body must be a JSON object: {"ids": [...]} or {"filter": {...}}' },
  )
  .refine((b) => (b.ids === undefined) !== (b.filter === undefined), {
    message: 'give either ids or filter, not both',
    path: ['ids'],
  });

type ReplayFilter = z.infer<typeof replayFilter>;

const jobPath = z.object({
  jobId: z.string().regex(REPLAY_JOB_ID_RE, 'must be a replay job id (rp-<uuid>)'),
});

/** The archive-search filter of a replay filter. */
function toMessageFilter(f: ReplayFilter, before: string | undefined, count: number): MessageFilter {
  return {
    ...(f.sender !== undefined ? { sender: f.sender } : {}),
    ...(f.type !== undefined ? { type: f.type } : {}),
    ...(f.status !== undefined ? { status: f.status } : {}),
    ...(f.controlId !== undefined ? { controlId: f.controlId } : {}),
    ...(f.patient !== undefined ? { patient: f.patient } : {}),
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.since !== undefined ? { since: f.since } : {}),
    ...(f.until !== undefined ? { until: f.until } : {}),
    ...(f.errorKey !== undefined ? { errorKey: f.errorKey } : {}),
    ...(before !== undefined ? { before } : {}),
    count,
  };
}

/** The ids a filter matches, or undefined when more than `max` do. */
async function resolveFilter(db: Db, f: ReplayFilter, max: number): Promise<string[] | undefined> {
  const ids: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await findMessages(db, toMessageFilter(f, before, 1000));
    ids.push(...page.messages.map((m) => m.id));
    if (ids.length > max) return undefined;
    if (page.nextBefore === undefined) return ids;
    before = page.nextBefore;
  }
}

/** The filter as the audit row's query (values the audit log redacts as it does for searches). */
function filterQuery(f: ReplayFilter): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (v !== undefined) q.set(k, v instanceof Date ? v.toISOString() : v);
  }
  return q.toString();
}

/** BullMQ's job states as the API names them. */
function stateOf(state: string): 'waiting' | 'active' | 'completed' | 'failed' {
  switch (state) {
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    default:
      // waiting, prioritized, delayed (a retry's backoff), waiting-children
      return 'waiting';
  }
}

/** Routes mounted at `/api/messages/replay` (before the admin router's `/messages/:id`). */
export function createReplayRouter(deps: ReplayRouteDeps): Router {
  const router = express.Router();
  router.use(deps.authorize);
  const access = adminAccess(deps.audit, 'Message');

  router.post('/', express.json({ limit: MAX_BODY }), async (req, res) => {
    const filterGiven = typeof req.body === 'object' && req.body !== null && 'filter' in req.body;
    const ctx = await access.allowed(
      res,
      filterGiven
        ? [
            ['Message', 'u'],
            ['Message', 's'],
          ]
        : [['Message', 'u']],
      'operation',
    );
    if (ctx === undefined) return;
    const body = parseParams(res, replayBody, req.body);
    if (body === undefined) return;
    let ids: string[];
    if (body.filter !== undefined) {
      const found = await resolveFilter(deps.db, body.filter, MAX_REPLAY_FILTER);
      if (found === undefined) {
        sendOutcome(
          res,
          outcome(
            'too-costly',
            `the filter matches more than ${MAX_REPLAY_FILTER} messages: narrow it (since, until)`,
          ),
        );
        return;
      }
      ids = found;
    } else {
      ids = [...new Set(body.ids)];
    }
    // Oldest first: a patient's messages are then replayed in the order they were received.
    ids.sort(compareIds);
    const jobId = newReplayJobId();
    const requestedBy = ctx.subject ?? ctx.clientId;
    await deps.replayQueue.add('replay', { messageIds: ids, requestedBy, traceId: `t-${jobId}` }, { jobId });
    await deps.audit({
      clientId: ctx.clientId,
      ...(ctx.subject !== undefined ? { subject: ctx.subject } : {}),
      action: 'operation',
      resourceType: 'Message',
      resourceId: jobId,
      ...(body.filter !== undefined ? { query: filterQuery(body.filter) } : {}),
      outcome: 'success',
      detail: { operation: 'replay', by: body.filter !== undefined ? 'filter' : 'ids', total: ids.length },
    });
    res.status(202).json({ jobId, total: ids.length });
  });

  router.get('/:jobId', async (req, res) => {
    const ctx = await access.allowed(res, [['Message', 'r']], 'read');
    if (ctx === undefined) return;
    const path = parseParams(res, jobPath, req.params);
    if (path === undefined) return;
    const job = await deps.replayQueue.getJob(path.jobId);
    if (job === undefined) {
      sendOutcome(res, outcome('not-found', `no replay job ${path.jobId} (kept for 7 days after it ends)`));
      return;
    }
    const state = stateOf(await job.getState());
    const total = job.data.messageIds.length;
    const p = recordedProgress(job.progress);
    res.json({
      jobId: path.jobId,
      state,
      total,
      queued: p?.queued ?? 0,
      skipped: p?.skipped ?? 0,
      ...(state === 'failed' && job.failedReason !== '' ? { failedReason: job.failedReason } : {}),
    });
  });

  router.use((req, res) => {
    sendOutcome(res, outcome('not-found', `no route for ${req.method} /api/messages/replay${req.path}`));
  });
  return router;
}
