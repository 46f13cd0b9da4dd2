/**
 * Property-based fuzzing of the MLLP listener of a real engine (fast-check): each run sends one
 * connection a random stream (valid ADTs, junk, random-byte frames, unterminated and oversize
 * frames) cut at random points with small pauses. The pure MllpFrameReader on the same bytes is
 * the oracle: every event it reports (frame, oversize, truncated) must get exactly one ACK, in
 * order, each a single well-formed MLLP frame; each valid ADT gets AA; and a final normal message
 * on the same connection still gets AA.
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameMllp, MllpFrameReader, type MllpEvent } from '../../engine/src/hl7/mllp-frame-reader';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { readValue } from '../../engine/src/hl7/read-value';
import { adtMessage } from '../helpers/mllp-test-client';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;
/** Small, so oversize frames are cheap to send. */
const MAX_FRAME_BYTES = 2_048;
const ACK_TIMEOUT_MS = 8_000;
/** How long to keep listening, once every expected ACK is in, for ACKs that should not come. */
const SETTLE_MS = 100;

let engine: TestEngine | undefined;
const mllpPort = (): number => {
  if (engine === undefined) throw new Error('engine not started');
  return engine.mllpPort;
};

beforeAll(async () => {
  engine = await startTestEngine({
    env: {
      MLLP_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
      // One connection per run, opened right after the last one closed.
      MLLP_MAX_CONNECTIONS_PER_PEER: '1000',
    },
  });
});

afterAll(async () => {
  await engine?.destroy();
  engine = undefined;
});

/** A raw connection whose received bytes go through a frame reader, so every ACK event is seen. */
class AckStream {
  readonly events: MllpEvent[] = [];
  readonly reader = new MllpFrameReader({ maxFrameBytes: 1 << 20 });
  closed = false;
  readonly socket: net.Socket;
  private wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.events.push(...this.reader.push(chunk));
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<AckStream> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    return new AckStream(socket);
  }

  /** Resolves once `count` events have arrived (or the connection closed, or time ran out). */
  async waitFor(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.end();
    this.socket.destroy();
    await closed;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One piece of a stream; ADTs get their control ID when the stream is built. */
type Piece =
  | { readonly kind: 'adt'; readonly mrn: string }
  | { readonly kind: 'bytes'; readonly bytes: readonly number[] };

const byteArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constantFrom(VT, FS, CR, 0x0a, 0x00) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const randomBytesArb = (maxLength: number): fc.Arbitrary<number[]> => fc.array(byteArb, { maxLength });
const noFraming = (bytes: readonly number[]): number[] => bytes.filter((b) => b !== VT && b !== FS);
const ascii = (text: string): number[] => [...Buffer.from(text, 'latin1')];

/** HL7-looking frames that ingest must refuse or take apart: bad MSH, no MSH-10, binary, noise. */
const hl7ishArb = fc.constantFrom(
  'PID|1||123^^^GHH^MR||Doe^Jane',
  'MSH|^^\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01|FZ-BAD-ENC|P|2.5',
  'MSH|^~\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01',
  'MSH|^~\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01|FZ-NUL\u0000|P|2.5',
  'MSH#^~\\&#EPIC',
  'MSH',
  '',
  '\r\n',
);

const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('adt' as const), mrn: fc.constantFrom('F1', 'F2', 'F3') }),
  },
  // Junk between frames, sometimes holding a stray VT or FS CR of its own.
  { weight: 2, arbitrary: randomBytesArb(12).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  // A frame of random bytes (which may well end, or restart, early).
  {
    weight: 2,
    arbitrary: randomBytesArb(40).map((b) => ({ kind: 'bytes' as const, bytes: [VT, ...b, FS, CR] })),
  },
  {
    weight: 1,
    arbitrary: hl7ishArb.map((t) => ({ kind: 'bytes' as const, bytes: [VT, ...ascii(t), FS, CR] })),
  },
  // A frame that never ends: the next VT truncates it.
  {
    weight: 1,
    arbitrary: randomBytesArb(30).map((b) => ({ kind: 'bytes' as const, bytes: [VT, ...noFraming(b)] })),
  },
  // An oversize frame, headed by an MSH so its AR can echo the control ID.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 3 * MAX_FRAME_BYTES }).map((extra) => ({
      kind: 'bytes' as const,
      bytes: [
        VT,
        ...ascii('MSH|^~\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01|FZ-BIG|P|2.5\rNTE|1||'),
        ...Array.from({ length: MAX_FRAME_BYTES + extra }, () => 0x78),
        FS,
        CR,
      ],
    })),
  },
);

interface SendPlan {
  readonly cuts: readonly number[];
  readonly pauses: readonly number[];
  readonly splitFs: boolean;
}

/** Cut points (taken modulo the stream length) and a pause in ms after each chunk. */
const sendPlanArb: fc.Arbitrary<SendPlan> = fc.record({
  cuts: fc.array(fc.nat(), { maxLength: 12 }),
  pauses: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 12 }),
  splitFs: fc.boolean(),
});

function chunksOf(stream: Buffer, plan: SendPlan): Buffer[] {
  const n = stream.length;
  const points = plan.cuts.map((c) => c % (n + 1));
  // Cut between FS and CR at the first end block or two, where framing is most fragile.
  if (plan.splitFs) {
    let found = 0;
    for (let i = 0; i < n - 1 && found < 2; i++) {
      if (stream[i] === FS && stream[i + 1] === CR) {
        points.push(i + 1);
        found++;
      }
    }
  }
  const sorted = [...new Set([0, n, ...points])].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  for (let i = 1; i < sorted.length; i++) chunks.push(stream.subarray(sorted[i - 1], sorted[i]));
  return chunks;
}

interface Ack {
  readonly code: string | undefined;
  readonly controlId: string | undefined;
}

/** Reads an ACK frame's MSA; undefined when it is not a readable HL7 ACK. */
function readAck(e: MllpEvent): Ack | undefined {
  if (e.kind !== 'frame') return undefined;
  try {
    const m = parseHl7(e.payload.toString('utf8'));
    return { code: readValue(m, 'MSA-1'), controlId: readValue(m, 'MSA-2') };
  } catch {
    return undefined;
  }
}

const describeEvent = (e: MllpEvent): string =>
  e.kind === 'oversize'
    ? `oversize(${e.size})`
    : `${e.kind}(${JSON.stringify(e.payload.toString('latin1').slice(0, 60))})`;

let runs = 0;

describe('MLLP listener fuzz', () => {
  it('answers every frame of any stream with exactly one ACK, and stays usable', async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(pieceArb, { maxLength: 12 }), sendPlanArb, async (pieces, plan) => {
        const run = `${Date.now().toString(36)}-${runs++}`;
        // Valid ADTs by their exact text, so the oracle's events can be matched to them.
        const adts = new Map<string, string>();
        const parts: Buffer[] = [];
        pieces.forEach((p, i) => {
          if (p.kind === 'bytes') {
            parts.push(Buffer.from(p.bytes));
            return;
          }
          const controlId = `FZ-${run}-${i}`;
          const text = adtMessage({ controlId, mrn: p.mrn });
          adts.set(text, controlId);
          parts.push(frameMllp(text));
        });
        const finalId = `FZ-${run}-final`;
        parts.push(frameMllp(adtMessage({ controlId: finalId })));
        const stream = Buffer.concat(parts);

        const expected = new MllpFrameReader({ maxFrameBytes: MAX_FRAME_BYTES }).push(stream);
        const client = await AckStream.connect(mllpPort());
        try {
          const chunks = chunksOf(stream, plan);
          for (const [i, chunk] of chunks.entries()) {
            client.socket.write(chunk);
            const pause = plan.pauses[i % plan.pauses.length] ?? 0;
            if (pause > 0) await sleep(pause);
          }
          await client.waitFor(expected.length, ACK_TIMEOUT_MS);
          await sleep(SETTLE_MS);
          const context = {
            sent: expected.map(describeEvent),
            received: client.events.map(describeEvent),
          };
          // Exactly one ACK per event, each one well-formed MLLP frame holding an HL7 ACK.
          expect(client.closed, JSON.stringify(context)).toBe(false);
          expect(client.events.map((e) => e.kind)).toEqual(expected.map(() => 'frame'));
          expect(client.reader.junkBytes).toBe(0);
          const acks = client.events.map(readAck);
          expected.forEach((e, i) => {
            const ack = acks[i];
            expect(ack?.code, `ACK ${i} for ${describeEvent(e)}`).toMatch(/^A[AER]$/);
            const adt = e.kind === 'frame' ? adts.get(e.payload.toString('utf8')) : undefined;
            if (adt !== undefined) expect(ack).toEqual({ code: 'AA', controlId: adt });
          });
          expect(acks.at(-1)).toEqual({ code: 'AA', controlId: finalId });
        } finally {
          await client.close();
        }
      }),
      { numRuns: 25, timeout: 20_000 },
    );
    // Keep the whole property well inside the file's budget.
    expect(Date.now() - started).toBeLessThan(40_000);
  }, 120_000);
});

describe('MLLP listener fuzz: regressions (bugs this fuzz found, now fixed)', () => {
  // Was a bug in build-ack.ts esc (fixed): header values are echoed into the ACK with their control characters.
  // An MSH-10 ending in a raw FS (legal inside a frame: FS is data unless CR follows) puts
  // `FS CR` (the FS, then the segment separator) into the ACK, which ends it early: the sender
  // reads MSA-2 without the FS (not its control ID), and the rest as 2 junk bytes. An MSH-10 of
  // `\X0B\` (an escaped VT) puts a VT into the ACK: the sender reads a truncated frame, then a
  // frame holding only `\r`, i.e. two events and no readable ACK. Fix: in esc(), also replace
  // control characters (/[\\|^~&\x00-\x1f\x7f]/g, the unnamed ones to ' ').
  it.each([
    ['a raw FS ending MSH-10', '\u001c'],
    ['an escaped VT in MSH-10', '\\X0B\\'],
  ])('answers a message with %s in exactly one readable ACK frame', async (_name, suffix) => {
    const client = await AckStream.connect(mllpPort());
    try {
      client.socket.write(frameMllp(adtMessage({ controlId: `FZ-${Date.now()}${suffix}` })));
      await client.waitFor(1, 5_000);
      await sleep(SETTLE_MS);
      expect(client.events.map((e) => e.kind)).toEqual(['frame']);
      expect(client.reader.junkBytes).toBe(0);
      expect(client.events.map(readAck)[0]?.code).toBe('AA');
    } finally {
      await client.close();
    }
  });
});
