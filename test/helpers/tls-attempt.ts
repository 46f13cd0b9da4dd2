/**
 * One MLLP send over TLS that records what happened at each step, for tests where the server
 * is expected to refuse the connection: whether the client's side of the handshake completed,
 * the first socket error (with its OpenSSL code), the ACKs that came back and whether the server
 * closed the connection. MllpTestClient swallows socket errors, which is right for tests that
 * expect to get through and wrong for these.
 */
import tls from 'node:tls';
import { frameMllp, MllpFrameReader } from '../../engine/src/hl7/mllp-frame-reader';
import { parseAck, type Ack } from './mllp-test-client';

export interface TlsAttempt {
  /**
   * The client finished its side of the handshake. Under TLS 1.3 it does so before the server has
   * checked the client certificate, so a refusal shows up after this, as an alert or a close.
   */
  readonly secureConnected: boolean;
  /** The first error the client socket reported, e.g. `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`. */
  readonly error: { readonly code: string | undefined; readonly message: string } | undefined;
  readonly acks: readonly Ack[];
  /** The connection closed within the timeout (false: we gave up waiting and destroyed it). */
  readonly closed: boolean;
}

/**
 * Connects, sends `message` once the handshake completes, and waits for the first ACK (then closes)
 * or for the server to close the connection.
 */
export function attemptTlsSend(
  port: number,
  options: tls.ConnectionOptions,
  message: string,
  timeoutMs = 5_000,
): Promise<TlsAttempt> {
  return new Promise((resolve) => {
    const reader = new MllpFrameReader();
    const acks: Ack[] = [];
    let secureConnected = false;
    let error: TlsAttempt['error'];
    let timedOut = false;
    const socket = tls.connect({ port, host: '127.0.0.1', ...options }, () => {
      secureConnected = true;
      socket.write(frameMllp(message));
    });
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      for (const e of reader.push(chunk)) {
        if (e.kind === 'frame') acks.push(parseAck(e.payload.toString('utf8')));
      }
      if (acks.length > 0) socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error ??= { code: err.code, message: err.message };
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ secureConnected, error, acks, closed: !timedOut });
    });
  });
}
