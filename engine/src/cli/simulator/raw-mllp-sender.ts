/**
 * A minimal MLLP sender on a raw socket, used only for messages node-hl7-client 3.2.0 refuses to
 * build: its `Message` constructor splits on any `MSH|` in the text, so a message carrying that
 * string inside a field (one public corpus file does) throws "Multiple MSH segments found".
 * The engine accepts such messages, so `--corpus` must still send them as written.
 */
import net from 'node:net';
import tls from 'node:tls';
import { frameMllp, MllpFrameReader } from '../../hl7/mllp-frame-reader';
import { parseHl7 } from '../../hl7/parse-message';
import { readValue } from '../../hl7/read-value';
import { SendError, type AckResult, type MllpSender, type MllpSenderOptions } from './mllp-sender';

/**
 * Opens a raw-socket sender with the same contract as `openMllpSender`.
 * @param options - where to connect and the timeouts.
 */
export async function openRawMllpSender(options: MllpSenderOptions): Promise<MllpSender> {
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const socket = await connectSocket(options, options.connectTimeoutMs ?? 5000);
  const reader = new MllpFrameReader();
  const state: { waiting: ((payload: Buffer) => void) | undefined; unexpected: number } = {
    waiting: undefined,
    unexpected: 0,
  };
  socket.on('data', (chunk: Buffer) => {
    for (const event of reader.push(chunk)) {
      if (event.kind !== 'frame') continue;
      const deliver = state.waiting;
      state.waiting = undefined;
      if (deliver === undefined) state.unexpected++;
      else deliver(event.payload);
    }
  });
  socket.on('error', () => undefined);
  return {
    get unexpectedAcks() {
      return state.unexpected;
    },
    async send(text: string): Promise<AckResult> {
      if (socket.destroyed) throw new SendError('closed', 'connection is closed');
      const started = performance.now();
      const payload = await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => {
          state.waiting = undefined;
          socket.destroy();
          reject(new SendError('ack-timeout', `no ACK within ${ackTimeoutMs} ms`));
        }, ackTimeoutMs);
        state.waiting = (p) => {
          clearTimeout(timer);
          resolve(p);
        };
        socket.write(frameMllp(text));
      });
      const ack = parseHl7(payload.toString('utf8'));
      const code = readValue(ack, 'MSA-1') ?? '';
      return { code, ackedControlId: readValue(ack, 'MSA-2') ?? '', latencyMs: performance.now() - started };
    },
    close: () => closeSocket(socket),
  };
}

async function closeSocket(socket: net.Socket): Promise<void> {
  await new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.end(() => resolve());
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, 1000).unref();
  });
}

async function connectSocket(o: MllpSenderOptions, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      o.tls === undefined
        ? net.connect({ host: o.host, port: o.port })
        : tls.connect({ host: o.host, port: o.port, ...o.tls });
    const timer = setTimeout(
      () =>
        fail(
          new SendError('connect-timeout', `could not connect to ${o.host}:${o.port} within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        err instanceof SendError
          ? err
          : new SendError('connect-timeout', `could not connect to ${o.host}:${o.port}: ${err.message}`),
      );
    };
    socket.once('error', fail);
    socket.once(o.tls === undefined ? 'connect' : 'secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
