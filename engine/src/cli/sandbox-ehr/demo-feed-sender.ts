/**
 * Sends the demo feeds to the engine the way hospitals do: over real MLLP (node-hl7-client),
 * one connection per hospital, each message waiting for its ACK, in event order. Then waits until
 * the engine has processed them, so the launcher URL is printed when there is something to see.
 */
import type { Db } from '../../store/db';
import { openMllpSender, type MllpSender } from '../simulator/mllp-sender';
import type { DemoFeedMessage } from './demo-feeds';

export interface DemoFeedResult {
  readonly sent: number;
  /** ACK code (MSA-1) to how many messages got it. */
  readonly acks: Readonly<Record<string, number>>;
  /** Messages whose ACK was not AA, or that got none, with why. */
  readonly problems: readonly string[];
}

/**
 * Sends every message and resolves when each has its ACK (or failed).
 * @param o - the engine's MLLP address and the messages, oldest first.
 */
export async function sendDemoFeeds(o: {
  readonly host: string;
  readonly port: number;
  readonly messages: readonly DemoFeedMessage[];
}): Promise<DemoFeedResult> {
  const senders = new Map<string, MllpSender>();
  const acks: Record<string, number> = {};
  const problems: string[] = [];
  try {
    for (const m of o.messages) {
      let sender = senders.get(m.facility);
      if (sender === undefined) {
        sender = await openMllpSender({ host: o.host, port: o.port });
        senders.set(m.facility, sender);
      }
      try {
        const ack = await sender.send(m.text);
        acks[ack.code] = (acks[ack.code] ?? 0) + 1;
        if (ack.code !== 'AA') problems.push(`${m.summary} (${m.controlId}): ACK ${ack.code}`);
      } catch (err) {
        problems.push(`${m.summary} (${m.controlId}): ${err instanceof Error ? err.message : String(err)}`);
        // A sender that timed out is spent; the next message of its hospital opens a new one.
        senders.delete(m.facility);
        await sender.close().catch(() => undefined);
      }
    }
  } finally {
    await Promise.all([...senders.values()].map((s) => s.close()));
  }
  return { sent: o.messages.length, acks, problems };
}

export interface ProcessingResult {
  readonly processed: number;
  /** Messages that failed processing (mapping or validation errors). */
  readonly failed: number;
  /** Still waiting when the time ran out. */
  readonly pending: number;
}

/**
 * Polls the message archive until none of `controlIds` is still `received`, or `timeoutMs` passes.
 * @param db - the engine's store.
 * @param controlIds - the MSH-10s sent.
 * @param timeoutMs - how long to wait.
 */
export async function waitForProcessing(
  db: Db,
  controlIds: readonly string[],
  timeoutMs: number,
): Promise<ProcessingResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM messages WHERE control_id = ANY($1::text[]) GROUP BY status`,
      [controlIds],
    );
    const count = (status: string): number => rows.find((r) => r.status === status)?.n ?? 0;
    const seen = rows.reduce((sum, r) => sum + r.n, 0);
    const pending = count('received') + Math.max(0, controlIds.length - seen);
    if (pending === 0 || Date.now() > deadline) {
      return { processed: count('processed') + count('ignored'), failed: count('failed'), pending };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
