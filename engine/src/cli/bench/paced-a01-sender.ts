/**
 * The notification benchmark's hospital: admissions at a fixed total rate over a few MLLP
 * connections, one message in flight on each (as interface engines send), each ACK's arrival
 * time kept so a notice can be timed from the moment the hospital was told "accepted". Slots are
 * fixed in advance: a connection that falls behind sends its late slots at once, so a slow engine
 * shows as a lower achieved rate, not as a rate the sender quietly lowered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createPopulation } from '../simulator/patient-population';
import type { MllpSender } from '../simulator/mllp-sender';
import { openRawMllpSender } from '../simulator/raw-mllp-sender';
import { renderBenchA01 } from './bench-a01';

export interface PacedSendOptions {
  readonly port: number;
  readonly connections: number;
  /** Messages per second over all connections. */
  readonly ratePerSec: number;
  readonly seconds: number;
  /** Slots not sent by then are dropped (counted as planned, not sent). */
  readonly maxSeconds: number;
  /** Unique per run: control ids, MRNs and visit numbers carry it. */
  readonly runId: string;
  /** @defaultValue 10000 */
  readonly ackTimeoutMs?: number;
}

export interface SentAdmission {
  readonly controlId: string;
  readonly visit: string;
  /** performance.now() at the write. */
  readonly sentAt: number;
  /** performance.now() when the ACK arrived; undefined when none did. */
  readonly ackAt: number | undefined;
  /** MSA-1, or `no-ack`. */
  readonly code: string;
}

export interface PacedSendResult {
  readonly planned: number;
  readonly admissions: readonly SentAdmission[];
  /** From the first slot to the last ACK. */
  readonly elapsedSec: number;
  /** Why sends failed (connection lost, ACK timeout), first few only. */
  readonly errors: readonly string[];
}

/**
 * Sends the run and resolves when every slot was sent (or dropped at `maxSeconds`).
 * @param o - target, rate, duration, connections.
 */
export async function sendPacedA01s(o: PacedSendOptions): Promise<PacedSendResult> {
  const planned = Math.round(o.ratePerSec * o.seconds);
  const population = createPopulation({ patients: planned, facilities: 1, seed: `notify-bench-${o.runId}` });
  const intervalMs = 1000 / o.ratePerSec;
  const admissions: SentAdmission[] = [];
  const errors: string[] = [];
  const senderOptions = { host: '127.0.0.1', port: o.port, ackTimeoutMs: o.ackTimeoutMs ?? 10_000 };
  const open: (MllpSender | undefined)[] = await Promise.all(
    Array.from({ length: o.connections }, () => openRawMllpSender(senderOptions)),
  );
  const start = performance.now() + 50;
  const deadline = start + o.maxSeconds * 1000;
  let lastAck = start;

  const runConnection = async (c: number): Promise<void> => {
    // Connection c takes slots c, c + connections, ...: evenly interleaved, so the total is paced.
    for (let n = c; n < planned; n += o.connections) {
      const slot = start + n * intervalMs;
      if (slot > deadline) return;
      const wait = slot - performance.now();
      if (wait > 0) await sleep(wait);
      const patient = population.patients[n];
      if (patient === undefined) return;
      const message = renderBenchA01(o.runId, n, patient, new Date());
      const sender = (open[c] ??= await openRawMllpSender(senderOptions));
      const sentAt = performance.now();
      try {
        const ack = await sender.send(message.text);
        const ackAt = performance.now();
        lastAck = Math.max(lastAck, ackAt);
        admissions.push({
          controlId: message.controlId,
          visit: message.visit,
          sentAt,
          ackAt,
          code: ack.code,
        });
      } catch (err) {
        admissions.push({
          controlId: message.controlId,
          visit: message.visit,
          sentAt,
          ackAt: undefined,
          code: 'no-ack',
        });
        if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
        // A timed-out sender closed its socket; the next slot opens a new connection.
        await sender.close();
        open[c] = undefined;
      }
    }
  };
  try {
    await Promise.all(open.map((_s, c) => runConnection(c)));
  } finally {
    await Promise.all(open.map((s) => s?.close() ?? Promise.resolve()));
  }
  return { planned, admissions, elapsedSec: (lastAck - start) / 1000, errors };
}
