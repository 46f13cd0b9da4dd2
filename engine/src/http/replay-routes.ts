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
import { findMessages } from '../store/message-query';
import { compareIds } from '../store/replay-reset';
import { adminAccess } from './admin-access';
import {
  filterAuditQuery,
  messageFilterFields,
  toMessageFilter,
  UNTIL_AFTER_SINCE,
  untilAfterSince,
  type MessageFilterParams,
} from './message-filter-params';
import { outcome, sendOutcome } from './operation-outcome';
import { messageId, parseParams } from './request-params';

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

/** The filters of `GET /api/messages` except paging, as JSON values. */
const replayFilter = z
  .strictObject(messageFilterFields)
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

const jobPath = z.object({
  jobId: z.string().regex(REPLAY_JOB_ID_RE, 'must be a replay job id (rp-<uuid>)'),
});

/** The ids a filter matches, or undefined when more than `max` do. */
async function resolveFilter(db: Db, f: MessageFilterParams, max: number): Promise<string[] | undefined> {
  const filter = toMessageFilter(f);
  const ids: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await findMessages(db, {
      ...filter,
      ...(before !== undefined ? { before } : {}),
      count: 1000,
    });
    ids.push(...page.messages.map((m) => m.id));
    if (ids.length > max) return undefined;
    if (page.nextBefore === undefined) return ids;
    before = page.nextBefore;
  }
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
    await access.audit(
      ctx,
      {
        action: 'operation',
        outcome: 'success',
        resourceId: jobId,
        ...(body.filter !== undefined ? { query: filterAuditQuery(body.filter) } : {}),
        detail: { operation: 'replay', by: body.filter !== undefined ? 'filter' : 'ids', total: ids.length },
      },
      [],
    );
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
