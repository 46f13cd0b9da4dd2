/**
 * `GET /api/errors`: failed messages grouped by cause, for the console's errors view. Each group's
 * `key` lists its messages (`/api/messages?errorKey=`) and replays them (the replay filter). The
 * groups name message ids, so reading them is a search of the archive, scoped and audited so.
 */
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { AuditEvent } from '../auth/audit-log';
import type { Queryable } from '../store/db';
import { groupFailedMessages } from '../store/error-groups';
import { adminAccess } from './admin-access';
import {
  filterAuditQuery,
  messageFilterFields,
  toMessageFilter,
  UNTIL_AFTER_SINCE,
  untilAfterSince,
} from './message-filter-params';
import { parseParams } from './request-params';

export interface ErrorsRouterDeps {
  readonly db: Queryable;
  /** Verifies the caller and leaves the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  readonly audit: (event: AuditEvent) => Promise<void>;
}

const { sender, since, until } = messageFilterFields;
const errorsQuery = z.strictObject({ sender, since, until }).refine(untilAfterSince, UNTIL_AFTER_SINCE);

/** Routes mounted at `/api/errors`. */
export function createErrorsRouter(deps: ErrorsRouterDeps): Router {
  const router = express.Router();
  router.use(deps.authorize);
  const access = adminAccess(deps.audit, 'Message');
  router.get('/', async (req, res) => {
    const ctx = await access.allowed(res, [['Message', 's']], 'search');
    if (ctx === undefined) return;
    const q = parseParams(res, errorsQuery, req.query);
    if (q === undefined) return;
    const groups = await groupFailedMessages(deps.db, toMessageFilter(q));
    await access.audit(
      ctx,
      {
        action: 'search',
        outcome: 'success',
        query: filterAuditQuery(req.query),
        detail: { view: 'errors', groups: groups.length },
      },
      [],
    );
    res.json({ groups });
  });
  return router;
}
