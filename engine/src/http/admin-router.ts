/**
 * The interface analyst's API over the message archive: find messages, read one with the FHIR
 * it produced, replay it. Messages hold PHI, so every read is scoped and audited.
 */
import express, { type RequestHandler, type Response, type Router } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { AccessContext, Interaction } from '../auth/access-context';
import { allowsResource, getAccessContext } from '../auth/access-context';
import type { Db } from '../store/db';
import { getMessage } from '../store/message-archive';
import { findMessages } from '../store/message-query';
import { resetForReplay } from '../store/replay-reset';
import { JobPriority, queueArchivedMessage, type ProcessJobData } from '../queue/process-queue';
import {
  filterAuditQuery,
  messageFilterFields,
  toMessageFilter,
  UNTIL_AFTER_SINCE,
  untilAfterSince,
} from './message-filter-params';
import { buildMessageView } from './message-view';
import { outcome, sendOutcome } from './operation-outcome';
import { decimalInt, messageId, parseParams } from './request-params';

/** One audited access to the archive. */
export interface AdminAuditEvent {
  readonly ctx: AccessContext;
  readonly action: 'read' | 'search' | 'replay';
  readonly messageIds: readonly string[];
  readonly query?: string;
}

export interface AdminRouterDeps {
  readonly db: Db;
  readonly queue: Queue<ProcessJobData>;
  /** Verifies the bearer token and leaves the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  readonly audit: (event: AdminAuditEvent) => Promise<void>;
}

/**
 * `GET /api/messages`: every filter checked here, so nothing malformed (a NUL byte, an id beyond
 * bigint, an impossible date) reaches PostgreSQL.
 */
const listQuery = z
  .strictObject({
    ...messageFilterFields,
    before: messageId.optional(),
    _count: decimalInt(1, 1000).default(100),
  })
  .refine(untilAfterSince, UNTIL_AFTER_SINCE);

/** `/api/messages/{id}` and `/api/messages/{id}/replay`. */
const messagePath = z.object({ id: messageId });

/** Routes mounted at `/api`. */
export function createAdminRouter(deps: AdminRouterDeps): Router {
  const router = express.Router();
  router.use(deps.authorize);

  router.get('/messages', async (req, res) => {
    const ctx = allowed(res, 's');
    if (ctx === undefined) return;
    const q = parseParams(res, listQuery, req.query);
    if (q === undefined) return;
    const { messages, nextBefore } = await findMessages(deps.db, {
      ...toMessageFilter(q),
      ...(q.before !== undefined ? { before: q.before } : {}),
      count: q._count,
    });
    await deps.audit({
      ctx,
      action: 'search',
      messageIds: messages.map((m) => m.id),
      query: filterAuditQuery(req.query),
    });
    // The same filters and `_count` with the cursor moved on: the pages partition the result.
    const next =
      nextBefore !== undefined
        ? `/api/messages?${new URLSearchParams({ ...(req.query as Record<string, string>), before: nextBefore }).toString()}`
        : undefined;
    res.json({ messages, ...(next !== undefined ? { next } : {}) });
  });

  router.get('/messages/:id', async (req, res) => {
    const ctx = allowed(res, 'r');
    if (ctx === undefined) return;
    const path = parseParams(res, messagePath, req.params);
    if (path === undefined) return;
    const m = await getMessage(deps.db, path.id);
    if (m === undefined) {
      sendOutcome(res, outcome('not-found', `message ${path.id} not found`));
      return;
    }
    await deps.audit({ ctx, action: 'read', messageIds: [m.id] });
    res.json(await buildMessageView(deps.db, m));
  });

  router.post('/messages/:id/replay', async (req, res) => {
    const ctx = allowed(res, 'u');
    if (ctx === undefined) return;
    const path = parseParams(res, messagePath, req.params);
    if (path === undefined) return;
    const existing = await getMessage(deps.db, path.id);
    if (existing === undefined) {
      sendOutcome(res, outcome('not-found', `message ${path.id} not found`));
      return;
    }
    if (existing.status === 'rejected') {
      sendOutcome(
        res,
        outcome('conflict', 'a rejected message cannot be processed; the sender must correct and resend it'),
      );
      return;
    }
    const [ref] = await resetForReplay(deps.db, [existing.id]);
    if (ref === undefined) {
      sendOutcome(res, outcome('not-found', `message ${path.id} not found`));
      return;
    }
    // A new job ID: the first run's job may still be kept in Redis and would block a re-add.
    // Behind live feeds: a replay someone starts must not delay the next admission.
    const jobId = await queueArchivedMessage(deps.queue, ref, {
      controlId: existing.controlId ?? '',
      priority: JobPriority.Backfill,
      suffix: `-r${Date.now()}`,
    });
    await deps.audit({ ctx, action: 'replay', messageIds: [existing.id] });
    res.status(202).json({ id: existing.id, status: 'received', jobId });
  });

  return router;
}

function allowed(res: Response, interaction: Interaction): AccessContext | undefined {
  const ctx = getAccessContext(res);
  if (!allowsResource(ctx, 'Message', interaction)) {
    sendOutcome(res, outcome('forbidden', `scope does not allow Message.${interaction}`));
    return undefined;
  }
  return ctx;
}
