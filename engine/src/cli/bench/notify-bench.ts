/**
 * The notify part of `npm run bench`: how long a PCP waits. Admissions at 200/s for 60 s go to
 * the engine over MLLP (ingest here, processing, notify and delivery in the worker child, as
 * `npm start` runs on PostgreSQL); a practice registered over /fhir for the PCP's NPI receives
 * the Da Vinci notices on a loopback endpoint. Each notice is timed from its A01's AA ACK to its
 * arrival, and every AA'd admission must arrive exactly once.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { summarizeLatencies } from '../simulator/latency-stats';
import { BENCH_PCP_NPI } from './bench-a01';
import {
  awaitVisits,
  startBenchNoticeReceiver,
  type ArrivedNotice,
  type BenchNoticeReceiver,
} from './bench-notice-receiver';
import { PRACTICE_REGISTRATION_SCOPE, registerPractice } from './bench-practice';
import type { TargetCheck } from './bench-report';
import { createBenchSystemClient } from './bench-system-client';
import { analyzeSchema } from '../../store/planner-statistics';
import { measureDrainCost, type DrainCost } from './drain-cost';
import { startBenchTarget, type BenchEnv } from './bench-target';
import { readMissingStates, summarizeMissing, type MissingNotices } from './missing-notices';
import { readStageBreakdown, type StageBreakdown, type TimedNotice } from './notify-stage-breakdown';
import { sendPacedA01s, type SentAdmission } from './paced-a01-sender';
import { startStageBacklogSampler, type StageBacklog } from './stage-backlog-sampler';

export interface NotifyBenchOptions {
  readonly seconds: number;
  /** @defaultValue 200 */
  readonly ratePerSec?: number;
  /** @defaultValue 4 */
  readonly connections?: number;
  /**
   * How long to wait after the last ACK for notices still on their way, at most; the wait ends
   * sooner once every notice is in, or when none has arrived for `quietMs`. @defaultValue 900000
   */
  readonly waitMs?: number;
  /** @defaultValue 30000 */
  readonly quietMs?: number;
  /** A01s of the drain phase (drain-cost.ts) after the run; 0 skips it. @defaultValue 2000 */
  readonly drainCount?: number;
  readonly log: (line: string) => void;
}

export interface NotifyBenchResult {
  readonly ratePerSec: number;
  readonly connections: number;
  readonly seconds: number;
  readonly planned: number;
  readonly sent: number;
  /** A01s answered AA. */
  readonly accepted: number;
  readonly notAccepted: number;
  /** AA'd admissions a second, first slot to last ACK. */
  readonly achievedRate: number;
  /** Da Vinci messages that arrived for this run's admissions (repeats included). */
  readonly received: number;
  /** AA'd admissions whose notice had not arrived when the wait ended. */
  readonly lost: number;
  /** Of those, how many the engine still had on the way, and how many it had finished without a notice. */
  readonly missing: MissingNotices;
  /** A notice id that arrived again, or a second notice for one visit. */
  readonly duplicated: number;
  /** Requests that were no notice of this run's (or the warm-up's) admissions. */
  readonly unexpected: number;
  /** From the last ACK until the last notice (or the wait's end). */
  readonly drainSeconds: number;
  /** ACK to arrival, first arrival of each admission. */
  readonly latency: {
    readonly count: number;
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  readonly backlog: { readonly peak: StageBacklog; readonly mean: StageBacklog; readonly samples: number };
  readonly stages: StageBreakdown;
  readonly sendErrors: readonly string[];
  /** Processing capacity and cost per admission, measured after the run (drain-cost.ts). */
  readonly drain?: DrainCost;
}

/** Admissions untimed before the run: the first mapping, pool connections, the HTTP agent. */
const WARM_UP = { ratePerSec: 50, seconds: 1 } as const;

/** What the receiver got, by visit. */
function arrivalsByVisit(notices: readonly ArrivedNotice[]): Map<string, ArrivedNotice[]> {
  const byVisit = new Map<string, ArrivedNotice[]>();
  for (const n of notices) {
    if (n.visit === undefined) continue;
    const list = byVisit.get(n.visit) ?? [];
    list.push(n);
    byVisit.set(n.visit, list);
  }
  return byVisit;
}

/** Waits for the notices of the AA'd admissions (see awaitVisits). */
async function awaitNotices(
  receiver: BenchNoticeReceiver,
  admissions: readonly SentAdmission[],
  maxMs: number,
  quietMs?: number,
): Promise<void> {
  const expected = new Set(admissions.filter((a) => a.code === 'AA').map((a) => a.visit));
  await awaitVisits(receiver, expected, { maxMs, ...(quietMs !== undefined ? { quietMs } : {}) });
}

/** Matches arrivals to admissions and counts what is missing or repeated. */
function tally(
  admissions: readonly SentAdmission[],
  notices: readonly ArrivedNotice[],
  warmUp: readonly SentAdmission[],
): Pick<NotifyBenchResult, 'received' | 'lost' | 'duplicated' | 'unexpected' | 'latency'> & {
  timed: TimedNotice[];
  missing: string[];
  lastArrival: number;
} {
  const runVisits = new Set(admissions.map((a) => a.visit));
  const warmUpVisits = new Set(warmUp.map((a) => a.visit));
  const ours = notices.filter((n) => n.visit !== undefined && runVisits.has(n.visit));
  const byVisit = arrivalsByVisit(ours);
  const idCounts = new Map<string, number>();
  for (const n of ours) idCounts.set(n.noticeId ?? '', (idCounts.get(n.noticeId ?? '') ?? 0) + 1);
  let duplicated = 0;
  for (const count of idCounts.values()) duplicated += count - 1;
  // Two different notice ids for one visit: the engine made two notices of one admission.
  for (const list of byVisit.values()) duplicated += new Set(list.map((n) => n.noticeId)).size - 1;
  const timed: TimedNotice[] = [];
  const missing: string[] = [];
  for (const a of admissions) {
    if (a.code !== 'AA' || a.ackAt === undefined) continue;
    const first = byVisit.get(a.visit)?.[0];
    if (first === undefined) missing.push(a.controlId);
    else timed.push({ controlId: a.controlId, ackAt: a.ackAt, receivedAt: first.at });
  }
  const s = summarizeLatencies(timed.map((t) => t.receivedAt - t.ackAt));
  return {
    received: ours.length,
    lost: missing.length,
    duplicated,
    unexpected: notices.filter(
      (n) => n.visit === undefined || !(runVisits.has(n.visit) || warmUpVisits.has(n.visit)),
    ).length,
    latency: { count: s.count, p50Ms: s.p50, p95Ms: s.p95, p99Ms: s.p99, maxMs: s.max },
    timed,
    missing,
    lastArrival: ours.reduce((m, n) => Math.max(m, n.at), 0),
  };
}

/**
 * Runs the notify part.
 * @param env - PostgreSQL, Redis and mappings.
 * @param o - duration, rate, connections, the wait for stragglers.
 */
export async function benchNotify(env: BenchEnv, o: NotifyBenchOptions): Promise<NotifyBenchResult> {
  const ratePerSec = o.ratePerSec ?? 200;
  const connections = o.connections ?? 4;
  const waitMs = o.waitMs ?? 900_000;
  const quietMs = o.quietMs ?? 30_000;
  const client = await createBenchSystemClient(PRACTICE_REGISTRATION_SCOPE);
  const receiver = await startBenchNoticeReceiver();
  try {
    const target = await startBenchTarget('engine', env, {
      http: true,
      settings: { SMART_CLIENTS_FILE: client.clientsFile, ENDPOINT_ALLOWED_HOSTS: '127.0.0.1' },
    });
    try {
      const engine = target.engine;
      if (engine === undefined) throw new Error('the engine target has no in-process engine');
      const baseUrl = engine.config.http.publicUrl;
      await registerPractice(baseUrl, await client.token(baseUrl), receiver.url, BENCH_PCP_NPI);
      o.log(`  notify: practice registered for NPI ${BENCH_PCP_NPI} at ${receiver.url}; warming up`);
      const warmUp = await sendPacedA01s({
        port: target.port,
        connections,
        ...WARM_UP,
        maxSeconds: 30,
        runId: `w${randomBytes(3).toString('hex')}`,
      });
      await awaitNotices(receiver, warmUp.admissions, 30_000);
      await analyzeSchema(engine.db);

      const runId = randomBytes(4).toString('hex');
      o.log(
        `  notify: ${ratePerSec} A01/s for ${o.seconds} s on ${connections} connections ` +
          '(sender and receiver run in this process, beside ingest, on the same CPUs as the worker child)',
      );
      const sampler = startStageBacklogSampler({
        process: engine.queue,
        notify: engine.notifyQueue,
        deliver: engine.deliverQueue,
      });
      const sent = await sendPacedA01s({
        port: target.port,
        connections,
        ratePerSec,
        seconds: o.seconds,
        maxSeconds: o.seconds + 60,
        runId,
      });
      const lastAck = sent.admissions.reduce((m, a) => Math.max(m, a.ackAt ?? 0), 0);
      o.log(
        `  notify: sent ${sent.admissions.length}; waiting for every notice (at most ${waitMs / 1000} s, ` +
          `or until none arrived for ${quietMs / 1000} s)`,
      );
      await awaitNotices(receiver, sent.admissions, waitMs, quietMs);
      // A repeat would come after the first copy: give one a moment to show before counting.
      await sleep(1000);
      const backlog = await sampler.stop();
      const states = await readMissingStates(
        engine.db,
        tally(sent.admissions, receiver.notices, warmUp.admissions).missing,
      );
      // Counted again after the states were read: what arrived meanwhile is not missing.
      const counted = tally(sent.admissions, receiver.notices, warmUp.admissions);
      const missing = summarizeMissing(counted.missing.map((id) => states.get(id) ?? 'unknown'));
      const accepted = sent.admissions.filter((a) => a.code === 'AA').length;
      const stages = await readStageBreakdown(engine.db, counted.timed, `NB-${runId}-`);
      const { timed: _timed, missing: _missing, lastArrival, ...counts } = counted;
      const drainCount = o.drainCount ?? 2000;
      let drain: DrainCost | undefined;
      if (drainCount > 0) {
        o.log(`  notify: drain phase, ${drainCount} A01s queued with processing paused, then released`);
        drain = await measureDrainCost({
          engine,
          port: target.port,
          receiver,
          workerPid: target.workerPid,
          count: drainCount,
        });
      }
      return {
        ratePerSec,
        connections,
        seconds: o.seconds,
        planned: sent.planned,
        sent: sent.admissions.length,
        accepted,
        notAccepted: sent.admissions.length - accepted,
        achievedRate: sent.elapsedSec > 0 ? accepted / sent.elapsedSec : 0,
        ...counts,
        missing,
        drainSeconds: Math.max(0, (lastArrival - lastAck) / 1000),
        backlog,
        stages,
        sendErrors: sent.errors,
        ...(drain !== undefined ? { drain } : {}),
      };
    } finally {
      await target.close();
    }
  } finally {
    await receiver.close();
    client.remove();
  }
}

/** The issue's targets. */
export const NOTIFY_TARGETS = { maxP99Ms: 500, minRateShare: 0.95 } as const;

/**
 * Judges a notify run: p99 at the rate actually kept, nothing lost, nothing twice. Percentiles
 * only cover the notices that arrived, so the latency target also needs every one to have.
 */
export function notifyTargets(r: NotifyBenchResult): TargetCheck[] {
  const keptPace = r.achievedRate >= r.ratePerSec * NOTIFY_TARGETS.minRateShare;
  const notAa = r.notAccepted > 0 ? `, ${r.notAccepted} not AA` : '';
  const late = r.lost > 0 ? `, ${r.lost} not in` : '';
  const inFlight = r.missing.inFlight > 0 ? ` (${r.missing.inFlight} still on the way)` : '';
  return [
    {
      name: `notify p99 ACK -> endpoint at ${r.ratePerSec} ADT/s`,
      measured: `${r.latency.p99Ms.toFixed(0)} ms at ${r.achievedRate.toFixed(0)}/s${notAa}${late}`,
      target: `< ${NOTIFY_TARGETS.maxP99Ms} ms at >= ${r.ratePerSec * NOTIFY_TARGETS.minRateShare}/s`,
      pass:
        keptPace &&
        r.notAccepted === 0 &&
        r.lost === 0 &&
        r.latency.count > 0 &&
        r.latency.p99Ms < NOTIFY_TARGETS.maxP99Ms,
    },
    {
      name: 'notify notices lost',
      measured: `${r.lost} of ${r.accepted}${inFlight}`,
      target: '= 0',
      pass: r.accepted > 0 && r.lost === 0,
    },
    {
      name: 'notify notices duplicated',
      measured: String(r.duplicated),
      target: '= 0',
      pass: r.duplicated === 0,
    },
  ];
}

/** Whether the missing notices were still on their way when the wait ended, or dropped. */
function lostWhy(m: MissingNotices): string {
  if (m.inFlight + m.dropped === 0) return '';
  const states = Object.entries(m.states)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  return ` (${m.inFlight} still on the way, ${m.dropped} dropped; message/event/notice: ${states})`;
}

/** The notify section of the bench table. */
export function formatNotify(r: NotifyBenchResult): string[] {
  const ms = (x: number): string => x.toFixed(0);
  const l = r.latency;
  const b = r.backlog;
  const lines = [
    `notify: A01 at ${r.ratePerSec}/s for ${r.seconds} s on ${r.connections} MLLP connections -> a practice's loopback endpoint ` +
      '(sender and receiver share this process with ingest, and the CPUs with the worker child)',
    `  sent ${r.sent}/${r.planned}, ${r.accepted} AA (${r.achievedRate.toFixed(1)}/s achieved); ` +
      `${r.received} notices received, ${r.lost} lost${lostWhy(r.missing)}, ${r.duplicated} duplicated` +
      `${r.unexpected > 0 ? `, ${r.unexpected} unexpected requests` : ''}; last notice ${r.drainSeconds.toFixed(1)} s after the last ACK`,
    `  ACK -> endpoint (${l.count} notices${r.lost > 0 ? `; the ${r.lost} not in are not in the percentiles` : ''}): p50 ${ms(l.p50Ms)} ms, p95 ${ms(l.p95Ms)} ms, p99 ${ms(l.p99Ms)} ms, max ${ms(l.maxMs)} ms`,
    `  queued jobs (${b.samples} samples): process peak ${b.peak.process} mean ${b.mean.process.toFixed(1)}, ` +
      `notify peak ${b.peak.notify} mean ${b.mean.notify.toFixed(1)}, deliver peak ${b.peak.deliver} mean ${b.mean.deliver.toFixed(1)}`,
    `  stage throughput, first to last finish: ${r.stages.rates.map((x) => `${x.stage} ${x.perSec.toFixed(0)}/s`).join(', ')}`,
    `  where the time goes (${r.stages.count} notices; p50 / p99 / max ms):`,
    ...r.stages.segments.map(
      (s) =>
        `    ${s.name.padEnd(48)} ${s.p50Ms.toFixed(1).padStart(7)} ${s.p99Ms.toFixed(1).padStart(7)} ${s.maxMs.toFixed(1).padStart(7)}`,
    ),
  ];
  if (r.drain !== undefined) lines.push(...formatDrain(r.drain));
  if (r.sendErrors.length > 0) lines.push(`  send errors: ${r.sendErrors.join('; ')}`);
  return lines;
}

/** The drain phase's lines: capacity, then what one admission cost. */
function formatDrain(d: DrainCost): string[] {
  const ms = (x: number | undefined): string => (x === undefined ? 'n/a' : `${x.toFixed(2)} ms`);
  const cpu = [d.workerMs, d.postgresMs, d.redisMs];
  const total = cpu.every((x) => x !== undefined) ? cpu.reduce<number>((a, b) => a + (b ?? 0), 0) : undefined;
  const wal =
    d.walBytes === undefined
      ? 'WAL n/a'
      : `WAL ${(d.walBytes / 1024).toFixed(1)} KB in ${d.walRecords?.toFixed(0) ?? '?'} records, ${d.walSyncs?.toFixed(2) ?? '?'} flushes`;
  return [
    `  drain: ${d.count} A01s queued with processing paused, ${d.delivered} notices delivered in ${d.seconds.toFixed(1)} s = ${d.perSec.toFixed(1)} A01/s (processing capacity with ingest idle)`,
    `  per A01: CPU worker ${ms(d.workerMs)}, PostgreSQL ${ms(d.postgresMs)}, Redis ${ms(d.redisMs)}, in all ${ms(total)}; ${wal}`,
  ];
}
