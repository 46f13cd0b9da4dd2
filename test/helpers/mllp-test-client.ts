/**
 * A raw MLLP client for tests that must control the bytes on the wire (split frames, junk,
 * oversize frames). Realistic sending goes through node-hl7-client in the simulator.
 */
import net from 'node:net';
import tls from 'node:tls';
import { frameMllp, MllpFrameReader } from '../../engine/src/hl7/mllp-frame-reader';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { readValue } from '../../engine/src/hl7/read-value';

export interface Ack {
  readonly text: string;
  readonly code: string | undefined;
  readonly controlId: string | undefined;
  readonly ackControlId: string | undefined;
  readonly version: string | undefined;
  readonly errorText: string | undefined;
}

export function parseAck(text: string): Ack {
  const m = parseHl7(text);
  return {
    text,
    code: readValue(m, 'MSA-1'),
    controlId: readValue(m, 'MSA-2'),
    ackControlId: readValue(m, 'MSH-10'),
    version: readValue(m, 'MSH-12'),
    errorText: readValue(m, 'ERR-8') ?? readValue(m, 'MSA-3'),
  };
}

export class MllpTestClient {
  private readonly reader = new MllpFrameReader();
  private readonly acks: Ack[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  readonly socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.reader.push(chunk)) {
        if (e.kind === 'frame') this.acks.push(parseAck(e.payload.toString('utf8')));
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, options?: tls.ConnectionOptions): Promise<MllpTestClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s =
        options === undefined
          ? net.connect(port, '127.0.0.1', () => resolve(s))
          : tls.connect({ port, host: '127.0.0.1', ...options }, () => resolve(s));
      s.once('error', reject);
    });
    return new MllpTestClient(socket);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  /** Writes raw bytes as they are. */
  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Sends one framed message and waits for its ACK. */
  async send(message: string, timeoutMs = 10_000): Promise<Ack> {
    const before = this.acks.length;
    this.write(frameMllp(message));
    const [ack] = await this.waitForAcks(before + 1, timeoutMs);
    return ack!;
  }

  /** Resolves with ACKs from index `count - n`... once `count` have arrived in total. */
  async waitForAcks(count: number, timeoutMs = 10_000): Promise<Ack[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.acks.length < count) {
      if (this.closed) throw new Error(`connection closed after ${this.acks.length} ACKs, wanted ${count}`);
      if (Date.now() > deadline) throw new Error(`timed out with ${this.acks.length} ACKs, wanted ${count}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.acks.slice(count - 1);
  }

  allAcks(): readonly Ack[] {
    return this.acks;
  }

  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A small valid ADT message; `overrides` replaces MSH/PID values used by tests. */
export function adtMessage(o: {
  controlId: string;
  facility?: string;
  app?: string;
  mrn?: string;
  event?: string;
  version?: string;
}): string {
  return [
    `MSH|^~\\&|${o.app ?? 'EPIC'}|${o.facility ?? 'GHH'}|CARE|CARE|20261125080000-0500||ADT^${o.event ?? 'A01'}^ADT_A01|${o.controlId}|P|${o.version ?? '2.5.1'}`,
    `EVN|${o.event ?? 'A01'}|20261125080000-0500`,
    `PID|1||${o.mrn ?? '123'}^^^${o.facility ?? 'GHH'}^MR||Doe^Jane^Q||19800101|F|||1 Main St^^Town^MA^02110`,
    'PV1|1|I|ICU^101^A|||||||||||||||V' + (o.mrn ?? '123') + '^^^' + (o.facility ?? 'GHH') + '^VN',
  ].join('\r');
}
