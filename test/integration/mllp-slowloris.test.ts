/**
 * Slowloris against the MLLP listener: connections that trickle bytes and never finish a frame,
 * and one peer opening more than its share of connections. Every byte resets the idle timer, so
 * without a frame deadline and a per-peer cap a few hundred slow sockets hold every slot and a
 * real hospital is turned away. Real engine and sockets; peers are told apart by loopback source
 * addresses (Linux routes all of 127.0.0.0/8 to lo).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { frameMllp, MllpFrameReader } from '../../engine/src/hl7/mllp-frame-reader';
import { peerAddress } from '../../engine/src/pipeline/mllp-listener';
import { adtMessage, parseAck, type Ack } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const FRAME_TIMEOUT_MS = 1_500;
/** How late after its deadline a close may be seen (timers, 190 closes, a busy 2-core runner). */
const CLOSE_MARGIN_MS = 1_000;
const TRICKLE_INTERVAL_MS = 300;
const env = {
  MLLP_FRAME_TIMEOUT_MS: String(FRAME_TIMEOUT_MS),
  MLLP_MAX_CONNECTIONS: '200',
  MLLP_MAX_CONNECTIONS_PER_PEER: '20',
  // Long enough that only the frame deadline can close a trickling connection in these tests.
  MLLP_IDLE_TIMEOUT_MS: '60000',
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One client socket from a chosen loopback address, recording what the server did to it. */
class Peer {
  readonly socket: net.Socket;
  readonly acks: Ack[] = [];
  closedAt: number | undefined;
  /** When this client first wrote: the server's deadline runs from there at the earliest. */
  firstWriteAt: number | undefined;
  private readonly reader = new MllpFrameReader();
  private trickleTimer: NodeJS.Timeout | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.reader.push(chunk)) {
        if (e.kind === 'frame') this.acks.push(parseAck(e.payload.toString('utf8')));
      }
    });
    socket.on('close', () => {
      this.closedAt = Date.now();
      clearInterval(this.trickleTimer);
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, localAddress: string): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
        s.off('error', reject);
        resolve(new Peer(s));
      });
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  write(bytes: Buffer | string): void {
    this.firstWriteAt ??= Date.now();
    this.socket.write(bytes);
  }

  /** Writes `bytes` one at a time, one every `intervalMs`, until the connection closes. */
  trickle(bytes: Buffer, intervalMs = TRICKLE_INTERVAL_MS): void {
    let i = 0;
    const next = (): void => {
      if (this.closed || i >= bytes.length) return;
      this.write(bytes.subarray(i, i + 1));
      i++;
    };
    next();
    this.trickleTimer = setInterval(next, intervalMs);
  }

  async send(message: string, timeoutMs: number): Promise<Ack> {
    const before = this.acks.length;
    this.write(frameMllp(message));
    await waitFor(() => Promise.resolve(this.acks.length > before || this.closed), timeoutMs, 'an ACK');
    const ack = this.acks[before];
    if (ack === undefined) throw new Error('connection closed before the ACK');
    return ack;
  }

  async waitClosed(timeoutMs: number): Promise<void> {
    await waitFor(() => Promise.resolve(this.closed), timeoutMs, 'the server to close the connection');
  }

  destroy(): void {
    clearInterval(this.trickleTimer);
    this.socket.destroy();
  }
}

let engine: TestEngine | undefined;
const peers: Peer[] = [];

const connect = async (localAddress: string): Promise<Peer> => {
  if (engine === undefined) throw new Error('no engine');
  const peer = await Peer.connect(engine.mllpPort, localAddress);
  peers.push(peer);
  return peer;
};

/** `mllp_connections_total` by outcome. */
const connections = async (e: TestEngine): Promise<Record<string, number>> => {
  const { values } = await e.metrics.connections.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
};

/** Loopback source address for the i-th of many connections, 10 per address. */
const spreadAddress = (i: number): string => `127.0.0.${10 + Math.floor(i / 10)}`;

/** How long after its first byte the server closed each peer. */
const lifetimes = (ps: readonly Peer[]): number[] =>
  ps.map((p) => (p.closedAt ?? Number.NaN) - (p.firstWriteAt ?? Number.NaN));

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await engine?.destroy();
  engine = undefined;
});

describe('MLLP frame timeout', () => {
  it('closes 190 connections trickling a frame at the deadline; a real sender gets AA throughout and the slots come back', async () => {
    engine = await startTestEngine({ env });
    const e = engine;
    const trickled = Buffer.concat([Buffer.of(0x0b), Buffer.from(adtMessage({ controlId: 'SLOW' }))]);
    const tricklers = await Promise.all(Array.from({ length: 190 }, (_, i) => connect(spreadAddress(i))));
    for (const t of tricklers) t.trickle(trickled);

    const hospital = await connect('127.0.0.2');
    const sentAt = Date.now();
    const first = await hospital.send(adtMessage({ controlId: 'REAL-1' }), 2_000);
    expect([first.code, first.controlId]).toEqual(['AA', 'REAL-1']);
    expect(Date.now() - sentAt).toBeLessThan(2_000);
    // The AA came while they were all still holding their slots.
    expect(tricklers.filter((t) => t.closed)).toHaveLength(0);

    await Promise.all(tricklers.map((t) => t.waitClosed(FRAME_TIMEOUT_MS + CLOSE_MARGIN_MS + 2_000)));
    for (const lifetime of lifetimes(tricklers)) {
      expect(lifetime).toBeGreaterThanOrEqual(FRAME_TIMEOUT_MS - 20);
      expect(lifetime).toBeLessThanOrEqual(FRAME_TIMEOUT_MS + CLOSE_MARGIN_MS);
    }
    // A connection lives past the frame timeout as long as its frames finish.
    expect(hospital.closed).toBe(false);
    const second = await hospital.send(adtMessage({ controlId: 'REAL-2' }), 2_000);
    expect([second.code, second.controlId]).toEqual(['AA', 'REAL-2']);
    expect(await connections(e)).toEqual({ accepted: 191, 'frame-timeout': 190 });

    // The slots are free again: as many new connections are held, and served.
    const fresh = await Promise.all(Array.from({ length: 190 }, (_, i) => connect(spreadAddress(i))));
    await sleep(300);
    expect(fresh.filter((p) => p.closed)).toHaveLength(0);
    const again = await fresh[189]?.send(adtMessage({ controlId: 'FRESH-1' }), 2_000);
    expect(again?.code).toBe('AA');
    expect((await connections(e))['refused-limit']).toBeUndefined();
  });

  it('closes connections trickling noise, trickling start bytes, or holding a half-sent frame; silence after a frame is left to the idle timeout', async () => {
    engine = await startTestEngine({ env });
    const e = engine;
    const junk = await connect('127.0.0.40');
    junk.trickle(Buffer.from('x'.repeat(100)));
    // Each start byte abandons the frame before it (answered AR), but finishes none.
    const restarts = await connect('127.0.0.44');
    restarts.trickle(Buffer.from('\x0bA'.repeat(50)));
    const halfSent = await connect('127.0.0.41');
    halfSent.write(Buffer.from('\x0bMSH|^~\\&|EPIC|GHH|'));
    const silent = await connect('127.0.0.42');
    // Some senders end each frame with CR LF; that LF is not the start of a trickle.
    const trailer = await connect('127.0.0.43');
    trailer.write(Buffer.concat([frameMllp(adtMessage({ controlId: 'TRAILER-1' })), Buffer.from('\n')]));

    const stuck = [junk, restarts, halfSent];
    await Promise.all(stuck.map((p) => p.waitClosed(FRAME_TIMEOUT_MS + CLOSE_MARGIN_MS + 2_000)));
    for (const lifetime of lifetimes(stuck)) {
      expect(lifetime).toBeGreaterThanOrEqual(FRAME_TIMEOUT_MS - 20);
      expect(lifetime).toBeLessThanOrEqual(FRAME_TIMEOUT_MS + CLOSE_MARGIN_MS);
    }
    await sleep(FRAME_TIMEOUT_MS - 500);
    expect([silent.closed, trailer.closed]).toEqual([false, false]);
    expect(trailer.acks.map((a) => a.code)).toEqual(['AA']);
    expect((await trailer.send(adtMessage({ controlId: 'TRAILER-2' }), 2_000)).code).toBe('AA');
    expect((await silent.send(adtMessage({ controlId: 'SILENT-1' }), 2_000)).code).toBe('AA');
    expect(restarts.acks.length).toBeGreaterThan(0);
    expect(restarts.acks.every((a) => a.code === 'AR')).toBe(true);
    expect(await connections(e)).toEqual({ accepted: 5, 'frame-timeout': 3 });
  });
});

describe('MLLP connections per peer', () => {
  it('refuses a peer its 21st connection at once, serves other peers, and lets it back in below the cap', async () => {
    engine = await startTestEngine({ env });
    const e = engine;
    const held = [];
    for (let i = 0; i < 20; i++) held.push(await connect('127.0.0.30'));
    await sleep(100);

    const extra = await connect('127.0.0.30');
    const refusedAt = Date.now();
    await extra.waitClosed(1_000);
    expect((extra.closedAt ?? Infinity) - refusedAt).toBeLessThan(500);
    expect(extra.acks).toEqual([]);

    const other = await connect('127.0.0.31');
    expect((await other.send(adtMessage({ controlId: 'PEER-OTHER' }), 2_000)).code).toBe('AA');
    expect(held.filter((p) => p.closed)).toHaveLength(0);
    expect((await held[0]?.send(adtMessage({ controlId: 'PEER-HELD' }), 2_000))?.code).toBe('AA');
    expect(await connections(e)).toEqual({ accepted: 21, 'refused-peer-limit': 1 });

    for (const p of held.slice(15)) p.destroy();
    // The server counts a connection down when it sees it close.
    await sleep(200);
    const back = await connect('127.0.0.30');
    await sleep(200);
    expect(back.closed).toBe(false);
    expect((await back.send(adtMessage({ controlId: 'PEER-BACK' }), 2_000)).code).toBe('AA');
    expect(await connections(e)).toEqual({ accepted: 22, 'refused-peer-limit': 1 });
  });
});

describe('peerAddress', () => {
  // A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6; they must count as the same peer.
  it.each([
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['10.1.2.3', '10.1.2.3'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:abcd', '::ffff:abcd'],
    [undefined, 'unknown'],
  ])('%s counts as %s', (remote, peer) => {
    expect(peerAddress(remote)).toBe(peer);
  });
});
