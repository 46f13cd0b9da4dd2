/**
 * Where a notice's time goes between the hospital's ACK and the practice's endpoint, read back
 * from the timestamps each stage leaves in the database: messages.processed_at less
 * processing_ms (processing began), processed_at (it ended, before commit),
 * notifications.created_at (the notify transaction began), notifications.queued_at (its delivery
 * job was queued), notification_attempts.started_at (the first POST began). The database and
 * this process read one system clock, so ACK and arrival times convert to it exactly enough.
 */
import type { Queryable } from '../../store/db';
import { summarizeLatencies } from '../simulator/latency-stats';

export interface StageSegment {
  readonly name: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** How fast a stage finished the run's work, from its first finish to its last. */
export interface StageRate {
  readonly stage: 'processed' | 'attributed' | 'delivered';
  readonly count: number;
  readonly perSec: number;
}

export interface StageBreakdown {
  /** Notices with every timestamp present. */
  readonly count: number;
  readonly segments: readonly StageSegment[];
  /** Below the offered rate, a stage's queue grows for as long as the load lasts. */
  readonly rates: readonly StageRate[];
}

/** One delivered admission as the bench saw it, in performance.now() milliseconds. */
export interface TimedNotice {
  readonly controlId: string;
  readonly ackAt: number;
  readonly receivedAt: number;
}

interface StageRow {
  control_id: string;
  process_start: number;
  process_end: number;
  notice_created: number;
  notice_queued: number | null;
  attempt_started: number | null;
}

const SEGMENTS = [
  'ACK -> processing starts (process queue wait)',
  'processing (map, link, store)',
  'commit, relay, notify queue wait',
  'notify stage (attribute, write notice, queue)',
  'deliver queue wait',
  'deliver (read, build bundle, POST)',
] as const;

/**
 * Reads the run's stage timestamps and summarises each segment.
 * @param db - the engine's database (its schema).
 * @param notices - the delivered admissions, matched to their ACK and arrival.
 * @param controlIdPrefix - MSH-10 prefix of the run's messages.
 */
export async function readStageBreakdown(
  db: Queryable,
  notices: readonly TimedNotice[],
  controlIdPrefix: string,
): Promise<StageBreakdown> {
  const rows = await db.query<StageRow>(
    `SELECT m.control_id,
            (extract(epoch FROM m.processed_at) * 1000 - m.processing_ms)::float8 AS process_start,
            (extract(epoch FROM m.processed_at) * 1000)::float8 AS process_end,
            (extract(epoch FROM n.created_at) * 1000)::float8 AS notice_created,
            (extract(epoch FROM n.queued_at) * 1000)::float8 AS notice_queued,
            (extract(epoch FROM a.started_at) * 1000)::float8 AS attempt_started
       FROM messages m
       JOIN outbox o ON o.message_id = m.id
       JOIN notifications n ON n.outbox_id = o.id AND n.channel = 'davinci'
       LEFT JOIN notification_attempts a ON a.notification_id = n.id AND a.attempt = 1
      WHERE m.control_id LIKE $1 AND m.processed_at IS NOT NULL`,
    [`${controlIdPrefix}%`],
  );
  const byControlId = new Map(rows.map((r) => [r.control_id, r]));
  const wall = (t: number): number => performance.timeOrigin + t;
  const spans: number[][] = SEGMENTS.map(() => []);
  for (const n of notices) {
    const r = byControlId.get(n.controlId);
    if (r === undefined || r.notice_queued === null || r.attempt_started === null) continue;
    const points = [
      wall(n.ackAt),
      r.process_start,
      r.process_end,
      r.notice_created,
      r.notice_queued,
      r.attempt_started,
      wall(n.receivedAt),
    ];
    for (let i = 0; i < SEGMENTS.length; i++) spans[i]?.push((points[i + 1] ?? 0) - (points[i] ?? 0));
  }
  return {
    rates: await readStageRates(db, controlIdPrefix),
    count: spans[0]?.length ?? 0,
    segments: SEGMENTS.map((name, i) => {
      const s = summarizeLatencies(spans[i] ?? []);
      return { name, p50Ms: s.p50, p99Ms: s.p99, maxMs: s.max };
    }),
  };
}

interface SpanRow {
  stage: StageRate['stage'];
  n: number;
  seconds: number | null;
}

/** Finishes a second of each stage over the run. */
async function readStageRates(db: Queryable, controlIdPrefix: string): Promise<StageRate[]> {
  const rows = await db.query<SpanRow>(
    `WITH m AS (SELECT id, processed_at FROM messages WHERE control_id LIKE $1 AND status = 'processed'),
          n AS (SELECT n.created_at, n.delivered_at FROM m
                  JOIN outbox o ON o.message_id = m.id
                  JOIN notifications n ON n.outbox_id = o.id AND n.channel = 'davinci')
     SELECT 'processed' AS stage, count(*)::int AS n,
            extract(epoch FROM max(processed_at) - min(processed_at))::float8 AS seconds FROM m
     UNION ALL
     SELECT 'attributed', count(*)::int, extract(epoch FROM max(created_at) - min(created_at))::float8 FROM n
     UNION ALL
     SELECT 'delivered', count(delivered_at)::int,
            extract(epoch FROM max(delivered_at) - min(delivered_at))::float8 FROM n`,
    [`${controlIdPrefix}%`],
  );
  return rows.map((r) => ({
    stage: r.stage,
    count: r.n,
    perSec: r.seconds !== null && r.seconds > 0 ? (r.n - 1) / r.seconds : 0,
  }));
}
