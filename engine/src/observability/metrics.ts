/**
 * Prometheus metrics: a registry per engine (so tests running several engines don't collide)
 * exposing what an on-call engineer needs: ACKs by code, ACK latency, messages per sender and
 * processing outcomes, queue depths and notice delivery states.
 */
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AllowedSender } from '../config/schema';
import type { Queryable } from '../store/db';
import { NOTICE_STATUSES } from '../store/notification-store';
import { deliveryFigures } from '../store/operations-figures';
import { SenderLabels } from './sender-labels';

export interface EngineMetrics {
  readonly registry: Registry;
  readonly acks: Counter<'code'>;
  readonly ackLatency: Histogram;
  readonly junkBytes: Counter;
  readonly connections: Counter<'outcome'>;
  /** Messages archived (accepted or rejected, duplicates not counted again), by sender. */
  readonly received: Counter<'sender'>;
  readonly processed: Counter<'sender' | 'status'>;
  /** Turns a message's MSH-4 into a `sender` label value of bounded cardinality. */
  readonly senderLabels: SenderLabels;
  readonly processingSeconds: Histogram;
  /** Delivery attempts of notices, by channel and outcome (delivered, retry, failed). */
  readonly notices: Counter<'channel' | 'outcome'>;
  /** From a notice being written to its receiver accepting it. */
  readonly noticeLatencySeconds: Histogram<'channel'>;
  /** New messages whose sender had already used their MSH-10 for other content. */
  readonly controlIdReused: Counter;
  /** Rejected frames answered AR without an archive row (over a peer's per-minute budget). */
  readonly rejectedUnarchived: Counter<'reason'>;
  /** Segments of processed messages that no rule mapped (each also a warning on its message). */
  readonly unmappedSegments: Counter<'sender' | 'segment'>;
}

/** Segment names as a peer sends them are three capitals or digits; anything else is `other`. */
export function segmentLabel(name: string): string {
  return /^[A-Z][A-Z0-9]{2}$/.test(name) ? name : 'other';
}

export interface MetricsOptions {
  /** MLLP_ALLOWED_SENDERS: a facility not on it is counted as `other`. @defaultValue any sender */
  readonly allowedSenders?: readonly AllowedSender[] | undefined;
}

/** Builds a fresh registry with the engine's metrics. */
export function createMetrics(withDefaults = true, o: MetricsOptions = {}): EngineMetrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    senderLabels: new SenderLabels({ allowedSenders: o.allowedSenders }),
    acks: new Counter({
      name: 'mllp_acks_total',
      help: 'ACKs sent, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'mllp_ack_latency_seconds',
      help: 'Time from a complete frame to its ACK being written',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    junkBytes: new Counter({
      name: 'mllp_junk_bytes_total',
      help: 'Bytes received outside MLLP frames',
      registers: [registry],
    }),
    connections: new Counter({
      name: 'mllp_connections_total',
      help: 'MLLP connections, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    received: new Counter({
      name: 'messages_received_total',
      help: 'Messages archived (accepted or rejected), by sender (MSH-4; `other` beyond the label cap)',
      labelNames: ['sender'],
      registers: [registry],
    }),
    processed: new Counter({
      name: 'messages_processed_total',
      help: 'Messages finished by the pipeline, by sender (MSH-4) and status',
      labelNames: ['sender', 'status'],
      registers: [registry],
    }),
    processingSeconds: new Histogram({
      name: 'message_processing_seconds',
      help: 'Time to map and store one message',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    notices: new Counter({
      name: 'notification_attempts_total',
      help: 'Notice delivery attempts, by channel and outcome',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
    noticeLatencySeconds: new Histogram({
      name: 'notification_delivery_seconds',
      help: 'Time from a notice being written to its receiver accepting it',
      labelNames: ['channel'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
      registers: [registry],
    }),
    controlIdReused: new Counter({
      name: 'mllp_control_id_reused_total',
      help: 'Messages archived as new although their sender had used their MSH-10 for other content',
      registers: [registry],
    }),
    rejectedUnarchived: new Counter({
      name: 'mllp_rejected_unarchived_total',
      help: 'Rejected frames answered AR without being archived (over the per-peer limit), by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    unmappedSegments: new Counter({
      name: 'hl7_unmapped_segments_total',
      help: 'Segments of processed messages that no mapping rule read and no ignoreSegments: names, by sender (MSH-4) and segment',
      labelNames: ['sender', 'segment'],
      registers: [registry],
    }),
  };
}

/** What the backlog gauges read at scrape time. */
export interface BacklogSources {
  readonly db: Queryable;
  readonly queues: readonly Queue[];
}

/** Job states worth a gauge: what waits, runs, is held back, gave up, or finished and is kept. */
const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;

/**
 * Backlog per stage, read when Prometheus scrapes: jobs in each queue by state, and the archive's
 * own view (unfinished and parked messages, unrelayed and undelivered events), which stays true
 * when Redis has lost its data. A failed read leaves the gauge unset for that scrape.
 */
export function registerBacklogGauges(metrics: EngineMetrics, sources: BacklogSources): void {
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in each stage queue, by state',
    labelNames: ['queue', 'state'],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const q of sources.queues) {
        const counts = await q.getJobCounts(...JOB_STATES).catch(() => undefined);
        if (counts === undefined) continue;
        for (const state of JOB_STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'pipeline_backlog',
    help: 'Archive view of work not yet done, by stage and state',
    labelNames: ['stage', 'state'],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      const rows = await sources.db
        .query<{ stage: string; state: string; n: string }>(
          `SELECT 'process' AS stage, CASE WHEN parked THEN 'parked' ELSE 'received' END AS state, count(*)::text AS n
             FROM messages WHERE status = 'received' GROUP BY parked
           UNION ALL
           SELECT 'notify', CASE WHEN relayed_at IS NULL THEN 'unrelayed' ELSE 'pending' END, count(*)::text
             FROM outbox WHERE status = 'pending' GROUP BY relayed_at IS NULL
           UNION ALL
           SELECT 'deliver', status, count(*)::text
             FROM notifications WHERE status IN ('pending', 'retrying', 'failed') GROUP BY status`,
        )
        .catch(() => []);
      for (const r of rows) this.set({ stage: r.stage, state: r.state }, Number(r.n));
    },
  });
  new Gauge({
    name: 'notification_states',
    help: 'Notices in each delivery state (pending, retrying, delivered, failed), of every notice kept',
    labelNames: ['status'],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      const figures = await deliveryFigures(sources.db).catch(() => undefined);
      if (figures === undefined) return;
      // Every state, zeros included: a state with no notice is a series at 0, not a gap.
      for (const status of NOTICE_STATUSES) this.set({ status }, figures[status]);
    },
  });
}
