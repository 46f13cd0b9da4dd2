/**
 * The operations view over HTTP (`GET /api/operations?hours=24`): per sender how many messages
 * arrived and what became of them, ACK latency, queue depths and notice delivery states, the
 * figures an on-call analyst checks first. Counts only, no patient data; scope `Operations.r`.
 * `/metrics` carries the same figures for Prometheus (observability/metrics.ts).
 */
import express, { type RequestHandler, type Router } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { AuditEvent } from '../auth/audit-log';
import { histogramQuantiles } from '../observability/histogram-quantiles';
import type { EngineMetrics } from '../observability/metrics';
import type { Db } from '../store/db';
import { deliveryFigures, senderFigures } from '../store/operations-figures';
import { adminAccess } from './admin-access';
import { outcome, sendOutcome } from './operation-outcome';
import { decimalInt, parseParams } from './request-params';

export interface OperationsRouteDeps {
  readonly db: Db;
  readonly metrics: EngineMetrics;
  /** Every queue of the engine, by name in the answer. */
  readonly queues: readonly Queue[];
  readonly authorize: RequestHandler;
  readonly audit: (event: AuditEvent) => Promise<void>;
}

const HOUR_MS = 3_600_000;

const query = z.strictObject({ hours: decimalInt(1, 720).default(24) });

/** Share of a sender's messages that failed or were rejected, to four places. */
function errorRate(received: number, failed: number, rejected: number): number {
  return received === 0 ? 0 : Math.round(((failed + rejected) / received) * 10_000) / 10_000;
}

/** Seconds to milliseconds, to a hundredth. */
function toMs(seconds: number | null | undefined): number | null {
  return seconds === null || seconds === undefined ? null : Math.round(seconds * 100_000) / 100;
}

/** Routes mounted at `/api/operations`. */
export function createOperationsRouter(deps: OperationsRouteDeps): Router {
  const router = express.Router();
  router.use(deps.authorize);
  const access = adminAccess(deps.audit, 'Operations');

  router.get('/', async (req, res) => {
    const ctx = await access.allowed(res, [['Operations', 'r']], 'read');
    if (ctx === undefined) return;
    const q = parseParams(res, query, req.query);
    if (q === undefined) return;
    const since = new Date(Date.now() - q.hours * HOUR_MS);
    const [senders, deliveries, ack, queues] = await Promise.all([
      senderFigures(deps.db, since),
      deliveryFigures(deps.db, since),
      histogramQuantiles(deps.metrics.ackLatency, [0.5, 0.95, 0.99]),
      Promise.all(
        deps.queues.map(async (queue) => {
          const c = await queue.getJobCounts(
            'waiting',
            'prioritized',
            'active',
            'delayed',
            'failed',
            'completed',
          );
          return {
            name: queue.name,
            // Prioritised jobs (replays, swept backlog) wait too, behind live traffic.
            waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0),
            active: c['active'] ?? 0,
            delayed: c['delayed'] ?? 0,
            failed: c['failed'] ?? 0,
            completed: c['completed'] ?? 0,
          };
        }),
      ),
    ]);
    res.json({
      since: since.toISOString(),
      senders: senders.map((s) => ({ ...s, errorRate: errorRate(s.received, s.failed, s.rejected) })),
      ack: {
        count: ack.count,
        p50Ms: toMs(ack.values[0]),
        p95Ms: toMs(ack.values[1]),
        p99Ms: toMs(ack.values[2]),
      },
      queues,
      deliveries,
    });
  });

  router.use((req, res) => {
    sendOutcome(res, outcome('not-found', `no route for ${req.method} /api/operations${req.path}`));
  });
  return router;
}
