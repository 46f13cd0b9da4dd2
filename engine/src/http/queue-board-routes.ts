/**
 * Bull Board at `/console/queues`: the raw view of the engine's queues (depths, jobs, retries)
 * for admins. Job data holds ids only, but the board can also retry, remove and pause, so it is
 * never reachable without an admin: a console session of role `admin` (sign-in redirect for a
 * page, 401 otherwise, 403 for an analyst), or a bearer token whose scopes allow `Queue.u`.
 */
import express, { type RequestHandler, type Router } from 'express';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { requireScope } from '../auth/require-auth';

/** Where the board is mounted: its pages and API build their URLs from it. */
export const QUEUE_BOARD_PATH = '/console/queues';

export interface QueueBoardDeps {
  /** Every queue of the engine. */
  readonly queues: readonly Queue[];
  /** The bearer-token check, for scripts (an Authorization header decides alone). */
  readonly bearer: RequestHandler;
  /** `requireConsoleSession`: the console session check, mounted after `loadSession`. */
  readonly consoleSession: RequestHandler;
}

/** Admits an admin session, or a bearer token with `Queue.u`: one scope check for both. */
function admitAdmins(deps: QueueBoardDeps): RequestHandler[] {
  const authenticate: RequestHandler = (req, res, next) =>
    (req.get('authorization') === undefined ? deps.consoleSession : deps.bearer)(req, res, next);
  return [authenticate, requireScope('Queue', 'u')];
}

/** The board's router, mounted at QUEUE_BOARD_PATH. */
export function createQueueBoardRouter(deps: QueueBoardDeps): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: deps.queues.map((q) => new BullMQAdapter(q)),
    // @bull-board/express 9.10.1 declares against its own copy of @bull-board/api 9.10.1, whose
    // adapter class differs from 9.10.2's only in a private field; at run time the express adapter
    // uses nothing of that copy, so the two agree.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    options: { uiConfig: { boardTitle: 'Engine queues' } },
  });
  const router = express.Router();
  router.use(...admitAdmins(deps));
  // The adapter's router is untyped (`any`) in its declarations; it is an express Router.
  router.use(serverAdapter.getRouter() as Router);
  return router;
}
