/**
 * Drives a load: C connections each send, await the ACK, and send again, all drawing slots
 * from one fixed schedule (pacer.ts), until the source runs dry or the deadline passes. Counts ACK codes,
 * checks each MSA-2 against the MSH-10 sent, and keeps every latency.
 */
import type { ConnectionOptions } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLatencyRecorder, type LatencyRecorder, type LatencySummary } from './latency-stats';
import type { MessageSource, SourceMessage } from './message-source';
import { openMllpSender, SendError, type AckResult, type MllpSender } from './mllp-sender';
import { openRawMllpSender } from './raw-mllp-sender';
import { createSendPacer, type SendPacer } from './pacer';

export interface SimulationOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: ConnectionOptions;
  readonly connections: number;
  /** Messages per second across all connections; 0 sends as fast as ACKs allow. */
  readonly ratePerSec: number;
  readonly source: MessageSource;
  /** Sending stops after this long even if the source has more. */
  readonly maxDurationMs: number;
  readonly ackTimeoutMs?: number;
  /** @defaultValue 5000 */
  readonly reportEveryMs?: number;
  readonly onProgress?: (snapshot: SimulationSnapshot) => void;
}

export interface SimulationSnapshot {
  readonly elapsedSec: number;
  readonly sent: number;
  readonly acked: number;
  readonly failed: number;
  readonly ackCodes: Readonly<Record<string, number>>;
  /** ACKs per second since the previous snapshot. */
  readonly recentPerSec: number;
  readonly latency: LatencySummary;
}

export interface SimulationResult extends SimulationSnapshot {
  /** Messages per second over the whole run (ACKed / elapsed). */
  readonly throughputPerSec: number;
  /** Sends that got no ACK, by reason. */
  readonly errors: Readonly<Record<string, number>>;
  /** ACKs whose MSA-2 was not the MSH-10 just sent. */
  readonly controlIdMismatches: number;
  readonly unexpectedAcks: number;
  /** Messages node-hl7-client could not build, sent over a raw MLLP socket instead. */
  readonly rawSends: number;
  readonly byKind: Readonly<Record<string, number>>;
  /** True when the deadline stopped the run before the source ran dry. */
  readonly timedOut: boolean;
}

interface RunState {
  readonly o: SimulationOptions;
  readonly pacer: SendPacer;
  readonly latencies: LatencyRecorder;
  readonly deadline: number;
  readonly started: number;
  sent: number;
  acked: number;
  failed: number;
  mismatches: number;
  unexpected: number;
  rawSends: number;
  timedOut: boolean;
  readonly ackCodes: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly byKind: Record<string, number>;
}

/** Reconnects allowed per connection after a lost ACK, before that connection gives up. */
const MAX_RECONNECTS = 3;

/**
 * Runs the load and resolves with the totals; never throws for a failed send (it is counted).
 * @param o - target, connections, rate, source and bounds.
 */
export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const started = performance.now();
  const state: RunState = {
    o,
    pacer: createSendPacer(o.ratePerSec, started),
    latencies: createLatencyRecorder(),
    deadline: started + o.maxDurationMs,
    started,
    sent: 0,
    acked: 0,
    failed: 0,
    mismatches: 0,
    unexpected: 0,
    rawSends: 0,
    timedOut: false,
    ackCodes: {},
    errors: {},
    byKind: {},
  };
  let lastReport = { at: started, acked: 0 };
  const timer = setInterval(() => {
    const snap = snapshot(state, lastReport);
    lastReport = { at: performance.now(), acked: state.acked };
    o.onProgress?.(snap);
  }, o.reportEveryMs ?? 5000);
  timer.unref();
  try {
    await Promise.all(Array.from({ length: o.connections }, (_, i) => runConnection(i, state)));
  } finally {
    clearInterval(timer);
  }
  const snap = snapshot(state, { at: started, acked: 0 });
  return {
    ...snap,
    throughputPerSec: snap.elapsedSec > 0 ? state.acked / snap.elapsedSec : 0,
    errors: state.errors,
    controlIdMismatches: state.mismatches,
    unexpectedAcks: state.unexpected,
    rawSends: state.rawSends,
    byKind: state.byKind,
    timedOut: state.timedOut,
  };
}

function snapshot(s: RunState, since: { at: number; acked: number }): SimulationSnapshot {
  const now = performance.now();
  const window = (now - since.at) / 1000;
  return {
    elapsedSec: (now - s.started) / 1000,
    sent: s.sent,
    acked: s.acked,
    failed: s.failed,
    ackCodes: { ...s.ackCodes },
    recentPerSec: window > 0 ? (s.acked - since.acked) / window : 0,
    latency: s.latencies.summary(),
  };
}

async function connect(
  s: RunState,
  open: typeof openMllpSender = openMllpSender,
): Promise<MllpSender | undefined> {
  try {
    return await open({
      host: s.o.host,
      port: s.o.port,
      ...(s.o.tls !== undefined ? { tls: s.o.tls } : {}),
      ...(s.o.ackTimeoutMs !== undefined ? { ackTimeoutMs: s.o.ackTimeoutMs } : {}),
    });
  } catch (err) {
    if (!(err instanceof SendError)) throw err;
    count(s.errors, err.code);
    return undefined;
  }
}

/** A connection's senders: node-hl7-client, and a raw socket opened only if it is needed. */
interface Senders {
  primary: MllpSender | undefined;
  raw?: MllpSender | undefined;
  reconnects: number;
}

async function runConnection(stream: number, s: RunState): Promise<void> {
  const senders: Senders = { primary: await connect(s), reconnects: 0 };
  while (senders.primary !== undefined) {
    if (performance.now() >= s.deadline) {
      // Peeking costs one message, which is never sent anyway: the run is over.
      s.timedOut ||= s.o.source.take(stream) !== undefined;
      break;
    }
    const message = s.o.source.take(stream);
    if (message === undefined) break;
    const wait = s.pacer.take(performance.now());
    if (wait > 0) await sleep(wait);
    s.sent++;
    count(s.byKind, message.kind);
    await sendOne(message, senders, s);
  }
  for (const sender of [senders.primary, senders.raw]) {
    if (sender === undefined) continue;
    s.unexpected += sender.unexpectedAcks;
    await sender.close();
  }
}

async function sendOne(message: SourceMessage, senders: Senders, s: RunState): Promise<void> {
  const primary = senders.primary;
  if (primary === undefined) return;
  try {
    let ack: AckResult;
    try {
      ack = await primary.send(message.text);
    } catch (err) {
      if (!(err instanceof SendError && err.code === 'invalid-message')) throw err;
      // node-hl7-client could not build this message (see raw-mllp-sender.ts): send it raw.
      senders.raw ??= await connect(s, openRawMllpSender);
      if (senders.raw === undefined) throw err;
      ack = await senders.raw.send(message.text);
      s.rawSends++;
    }
    s.acked++;
    count(s.ackCodes, ack.code);
    if (message.controlId !== '' && ack.ackedControlId !== message.controlId) s.mismatches++;
    s.latencies.record(ack.latencyMs);
  } catch (err) {
    if (!(err instanceof SendError)) throw err;
    s.failed++;
    count(s.errors, err.code);
    if (err.code === 'ack-timeout' || err.code === 'closed') {
      s.unexpected += primary.unexpectedAcks;
      senders.primary = senders.reconnects++ < MAX_RECONNECTS ? await connect(s) : undefined;
    }
  }
}

function count(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}
