/**
 * The MLLP socket server: many messages per connection, one at a time and in order, with frame,
 * idle and connection limits. Framing is the pure MllpFrameReader; each event goes to ingest.
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
  const onSocket = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, options, inFlight);
  };
  const server =
    options.tls === undefined
      ? net.createServer(onSocket)
      : tls.createServer(tlsOptions(options.tls), onSocket);
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
      await Promise.allSettled([...inFlight]);
      for (const s of sockets) s.destroy();
      await closed;
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

function serveConnection(socket: net.Socket, o: MllpListenerOptions, inFlight: Set<Promise<unknown>>): void {
  const reader = new MllpFrameReader({ maxFrameBytes: o.maxFrameBytes });
  const conn = connectionInfo(socket);
  const log = o.logger.child({ remote: conn.remoteAddress });
  o.metrics.connections.inc({ outcome: 'accepted' });
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
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
        if (pending < MAX_PENDING_EVENTS / 2 && socket.isPaused()) socket.resume();
      });
    }
  });
  socket.on('close', () => {
    if (reader.junkBytes > 0) {
      log.info({ junkBytes: reader.junkBytes }, 'MLLP connection closed with bytes outside frames');
    }
  });
}

function connectionInfo(socket: net.Socket): ConnectionInfo {
  const remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
  if (socket instanceof tls.TLSSocket && socket.authorized) {
    const cn: unknown = socket.getPeerCertificate().subject?.CN;
    // A verified certificate must name exactly one sender. With no CN, or several (Node gives an
    // array), it names none: an empty CN matches no MSH-4, so it can send as nobody rather than
    // as anybody.
    return { remoteAddress, certificateCn: typeof cn === 'string' ? cn : '' };
  }
  return { remoteAddress };
}
