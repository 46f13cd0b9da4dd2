/**
 * One MLLP connection to the engine through node-hl7-client, with what a load tool needs on top:
 * a promise per message that resolves with its ACK, the round-trip latency, and timeouts.
 *
 * node-hl7-client 3.2.0 notes, from reading its Connection code: with `waitAck` it keeps one
 * message in flight and queues a second `sendMessage` until the socket (re)connects, not until the
 * ACK arrives, so we await each ACK before the next send; a send before the `connect` event opens
 * a second socket, so we wait for it; with `connectionTimeout: 0` socket errors are not reported,
 * so connect and ACK waits carry their own timers. One message in flight per connection also makes
 * the ACK handler's call time an exact per-message ACK latency, so no raw-socket sender is needed.
 */
import type { ConnectionOptions } from 'node:tls';
import { Client, Message, type Connection, type InboundResponse } from 'node-hl7-client';

export interface MllpSenderOptions {
  readonly host: string;
  readonly port: number;
  /** TLS options (CA, client certificate for mutual TLS); undefined for plain TCP. */
  readonly tls?: ConnectionOptions;
  /** @defaultValue 5000 */
  readonly connectTimeoutMs?: number;
  /** How long to wait for an ACK before counting the send as failed. @defaultValue 10000 */
  readonly ackTimeoutMs?: number;
}

/** What came back for one message. */
export interface AckResult {
  /** MSA-1: AA, AE, AR (or CA/CE/CR from enhanced-mode receivers). */
  readonly code: string;
  /** MSA-2, which should echo the message's MSH-10. */
  readonly ackedControlId: string;
  /** From handing the message to the socket to the ACK's arrival. */
  readonly latencyMs: number;
}

export type SendErrorCode = 'connect-timeout' | 'ack-timeout' | 'invalid-message' | 'closed';

/** A send that got no ACK. */
export class SendError extends Error {
  override readonly name = 'SendError';
  readonly code: SendErrorCode;
  constructor(code: SendErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A connected sender; send one message at a time. */
export interface MllpSender {
  /** Sends one message and resolves with its ACK; rejects with SendError. After an ack-timeout the sender is closed. */
  send(text: string): Promise<AckResult>;
  /** ACKs that arrived when none was awaited (a misbehaving receiver). */
  readonly unexpectedAcks: number;
  close(): Promise<void>;
}

interface Pending {
  readonly resolve: (r: AckResult) => void;
  readonly reject: (e: SendError) => void;
  readonly started: number;
  readonly timer: NodeJS.Timeout;
}

/** What a sender tracks between the ACK callback and `send`. */
interface SenderState {
  pending: Pending | undefined;
  unexpected: number;
  closed: boolean;
}

/**
 * Opens a connection and resolves once it is connected.
 * @param options - where to connect and the timeouts.
 */
export async function openMllpSender(options: MllpSenderOptions): Promise<MllpSender> {
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const client = new Client({
    host: options.host,
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
  });
  const state: SenderState = { pending: undefined, unexpected: 0, closed: false };
  const conn = client.createConnection({ port: options.port, waitAck: true }, (res) =>
    resolveAck(state, res),
  );
  await waitForConnect(conn, options, options.connectTimeoutMs ?? 5000);
  return {
    get unexpectedAcks() {
      return state.unexpected;
    },
    async send(text: string): Promise<AckResult> {
      if (state.closed) throw new SendError('closed', 'connection is closed');
      if (state.pending !== undefined) {
        throw new Error('send() called while an ACK is awaited: await each send');
      }
      let message: Message;
      try {
        message = new Message({ text });
      } catch (err) {
        throw new SendError('invalid-message', err instanceof Error ? err.message : String(err));
      }
      const acked = awaitAck(state, conn, ackTimeoutMs);
      await conn.sendMessage(message);
      return acked;
    },
    async close(): Promise<void> {
      state.closed = true;
      if (state.pending !== undefined) {
        clearTimeout(state.pending.timer);
        state.pending.reject(new SendError('closed', 'connection closed while awaiting an ACK'));
        state.pending = undefined;
      }
      await conn.close();
      client.closeAll();
    },
  };
}

function resolveAck(state: SenderState, res: InboundResponse): void {
  const p = state.pending;
  state.pending = undefined;
  if (p === undefined) {
    state.unexpected++;
    return;
  }
  clearTimeout(p.timer);
  const ack = res.getMessage();
  p.resolve({
    code: ack.get('MSA.1').toString(),
    ackedControlId: ack.get('MSA.2').toString(),
    latencyMs: performance.now() - p.started,
  });
}

function awaitAck(state: SenderState, conn: Connection, ackTimeoutMs: number): Promise<AckResult> {
  return new Promise<AckResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      // node-hl7-client still waits for this ACK and would hold every later message back,
      // so the connection is spent: the caller opens a new one.
      state.pending = undefined;
      state.closed = true;
      void conn.close();
      reject(new SendError('ack-timeout', `no ACK within ${ackTimeoutMs} ms`));
    }, ackTimeoutMs);
    state.pending = { resolve, reject, started: performance.now(), timer };
  });
}

async function waitForConnect(conn: Connection, o: MllpSenderOptions, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      conn.off('connect', onConnect);
      void conn.close();
      reject(
        new SendError('connect-timeout', `could not connect to ${o.host}:${o.port} within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    const onConnect = (): void => {
      clearTimeout(timer);
      resolve();
    };
    conn.once('connect', onConnect);
  });
}
