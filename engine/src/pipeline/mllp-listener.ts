/**
 * The MLLP socket server: many messages per connection, one at a time and in order, with frame,
 * idle and connection limits. Framing is the pure MllpFrameReader; each event goes to ingest.
 * Every byte resets the idle timer, so the idle timeout alone lets a few hundred sockets that
 * trickle a byte now and then hold every slot (slowloris); a deadline on each frame and a cap on
 * connections per peer address keep slots for the hospitals that send whole messages.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { frameMllp, MllpFrameReader, type MllpEvent } from '../hl7/mllp-frame-reader';
import type { Logger } from '../observability/logger';
import type { EngineMetrics } from '../observability/metrics';
import type { ConnectionInfo, IngestResult } from './ingest';

export interface MllpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  readonly maxFrameBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  /** Open connections one peer address may hold; one more is closed at once. */
  readonly maxConnectionsPerPeer: number;
  /**
   * A frame not finished this long after its first byte closes the connection; bytes outside
   * frames count as the start of one. Silence between frames is the idle timeout's.
   */
  readonly frameTimeoutMs: number;
  /** Handles one framing event and returns the ACK; must not throw. */
  readonly handle: (event: MllpEvent, conn: ConnectionInfo) => Promise<IngestResult>;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
}

export interface MllpListener {
  readonly port: number;
  /** Stops accepting, lets in-flight messages get their ACK, then closes every socket. */
  close(): Promise<void>;
}

/** Frames a sender may queue ahead of their ACKs before we stop reading from its socket. */
const MAX_PENDING_EVENTS = 64;

/** Starts listening; resolves once the port is bound. */
export async function startMllpListener(options: MllpListenerOptions): Promise<MllpListener> {
  const sockets = new Set<net.Socket>();
  const inFlight = new Set<Promise<unknown>>();
  /** Each open connection's ACK chain: closing waits for every frame already read, not just the current one. */
  const drains = new Map<net.Socket, () => Promise<void>>();
  const state = { closing: false };
  /**
   * Open connections by peer address; a peer with none has no entry. Under TLS a connection is
   * counted once its handshake is done (that is when we get it); until then only maxConnections
   * and Node's handshake timeout bound it.
   */
  const perPeer = new Map<string, number>();
  const onSocket = (socket: net.Socket): void => {
    const peer = peerAddress(socket.remoteAddress);
    const open = perPeer.get(peer) ?? 0;
    if (open >= options.maxConnectionsPerPeer) {
      options.metrics.connections.inc({ outcome: 'refused-peer-limit' });
      options.logger.warn(
        { peer, max: options.maxConnectionsPerPeer },
        'MLLP connection refused: peer connection limit reached',
      );
      socket.destroy();
      return;
    }
    perPeer.set(peer, open + 1);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      drains.delete(socket);
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
    drains.set(socket, serveConnection(socket, options, inFlight, state));
  };
  const server =
    options.tls === undefined
      ? net.createServer(onSocket)
      : tls.createServer({ ...tlsOptions(options.tls), handshakeTimeout: options.frameTimeoutMs }, onSocket);
  server.maxConnections = options.maxConnections;
  server.on('drop', () => {
    options.metrics.connections.inc({ outcome: 'refused-limit' });
    options.logger.warn({ max: options.maxConnections }, 'MLLP connection refused: connection limit reached');
  });
  server.on('tlsClientError', (err: Error) => {
    options.metrics.connections.inc({ outcome: 'tls-error' });
    options.logger.warn({ err: err.message }, 'MLLP TLS handshake failed');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Read nothing more, and answer everything already read: a frame archived without its ACK
      // would only come back as a duplicate.
      state.closing = true;
      for (const s of sockets) s.pause();
      await Promise.allSettled([...inFlight, ...[...drains.values()].map((drain) => drain())]);
      // end() flushes the ACKs written last; destroy() would discard them. A peer that never
      // closes its side is cut a moment later.
      for (const s of sockets) s.end();
      const cut = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, 1_000);
      await closed;
      clearTimeout(cut);
    },
  };
}

function tlsOptions(t: NonNullable<MllpListenerOptions['tls']>): tls.TlsOptions {
  return {
    cert: readFileSync(t.certFile),
    key: readFileSync(t.keyFile),
    ...(t.caFile !== undefined
      ? { ca: readFileSync(t.caFile), requestCert: true, rejectUnauthorized: true }
      : {}),
  };
}

/**
 * The peer a connection counts against: its address without the port, an IPv4-mapped IPv6
 * address (`::ffff:1.2.3.4`, what a dual-stack listener reports for IPv4) as the IPv4 address.
 */
export function peerAddress(remoteAddress: string | undefined): string {
  // Undefined only for a socket already gone; those share one entry until their close.
  if (remoteAddress === undefined) return 'unknown';
  const mapped = /^::ffff:(.+)$/i.exec(remoteAddress)?.[1];
  return mapped !== undefined && net.isIPv4(mapped) ? mapped : remoteAddress;
}

/** Serves one connection; returns what resolves once every frame read so far has its ACK. */
function serveConnection(
  socket: net.Socket,
  o: MllpListenerOptions,
  inFlight: Set<Promise<unknown>>,
  state: { readonly closing: boolean },
): () => Promise<void> {
  const reader = new MllpFrameReader({ maxFrameBytes: o.maxFrameBytes });
  const conn = connectionInfo(socket);
  const log = o.logger.child({ remote: conn.remoteAddress });
  o.metrics.connections.inc({ outcome: 'accepted' });
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
  // The frame deadline runs from the first byte no finished frame accounts for (see
  // MllpFrameReader.hasIncompleteInput) until a frame finishes; the ACK being computed after
  // that is ours, not the sender's, and is not timed. While we have stopped reading (too many
  // ACKs owed) the sender cannot finish a frame either, so the deadline starts again on resume.
  let frameTimer: ReturnType<typeof setTimeout> | undefined;
  const stopFrameTimer = (): void => {
    clearTimeout(frameTimer);
    frameTimer = undefined;
  };
  const updateFrameTimer = (): void => {
    if (socket.destroyed || !reader.hasIncompleteInput || socket.isPaused()) {
      stopFrameTimer();
      return;
    }
    frameTimer ??= setTimeout(() => {
      o.metrics.connections.inc({ outcome: 'frame-timeout' });
      log.warn(
        {
          timeoutMs: o.frameTimeoutMs,
          partialFrame: reader.hasPartialFrame,
          bufferedBytes: reader.bufferedBytes,
          junkBytes: reader.junkBytes,
        },
        'MLLP frame not finished in time: closing',
      );
      socket.destroy();
    }, o.frameTimeoutMs);
  };
  socket.setNoDelay(true);
  socket.setTimeout(o.idleTimeoutMs, () => {
    log.info({ partialFrame: reader.hasPartialFrame }, 'MLLP connection idle: closing');
    socket.destroy();
  });
  socket.on('error', (err) => log.warn({ err: err.message }, 'MLLP socket error'));
  socket.on('data', (chunk: Buffer) => {
    const junkBefore = reader.junkBytes;
    const events = reader.push(chunk);
    if (reader.junkBytes > junkBefore) o.metrics.junkBytes.inc(reader.junkBytes - junkBefore);
    for (const event of events) {
      pending++;
      if (pending >= MAX_PENDING_EVENTS) socket.pause();
      const started = process.hrtime.bigint();
      // One message at a time per connection: ACKs go back in the order messages came in.
      chain = chain.then(async () => {
        const task = o.handle(event, conn);
        inFlight.add(task);
        const result = await task.finally(() => inFlight.delete(task));
        if (!socket.destroyed) socket.write(frameMllp(result.ack));
        o.metrics.acks.inc({ code: result.code });
        o.metrics.ackLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
        pending--;
        if (pending < MAX_PENDING_EVENTS / 2 && socket.isPaused() && !state.closing) {
          socket.resume();
          updateFrameTimer();
        }
      });
    }
    // A finished frame ends its deadline; an abandoned (truncated) one does not, or a sender could
    // trickle start bytes for ever.
    if (events.some((e) => e.kind !== 'truncated')) stopFrameTimer();
    updateFrameTimer();
  });
  socket.on('close', () => {
    stopFrameTimer();
    if (reader.junkBytes > 0) {
      log.info({ junkBytes: reader.junkBytes }, 'MLLP connection closed with bytes outside frames');
    }
  });
  return () => {
    // Closing pauses reading; a half-read frame must not close the connection under the drain.
    stopFrameTimer();
    return chain;
  };
}

function connectionInfo(socket: net.Socket): ConnectionInfo {
  const remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
  const peer = peerAddress(socket.remoteAddress);
  if (socket instanceof tls.TLSSocket && socket.authorized) {
    const cn: unknown = socket.getPeerCertificate().subject?.CN;
    // A verified certificate must name exactly one sender. With no CN, or several (Node gives an
    // array), it names none: an empty CN matches no MSH-4, so it can send as nobody rather than
    // as anybody.
    return { remoteAddress, peer, certificateCn: typeof cn === 'string' ? cn : '' };
  }
  return { remoteAddress, peer };
}
