/**
 * A loopback TCP proxy a test can break in the ways a network breaks: the way to make PostgreSQL
 * or Redis "go away" for one engine without stopping the machine's shared servers.
 *
 * - `cut()`: every connection closes and new ones are refused (a stopped server);
 * - `stall()`: connections stay open and nothing flows either way (a hung server, a black hole);
 * - `reset()`: every connection is reset (RST, so the engine reads ECONNRESET), new ones are
 *   accepted as usual (a server restart, a middlebox dropping its state).
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Drops every connection and refuses new ones until `restore()`. */
  cut(): void;
  /**
   * Keeps every connection open, and accepts new ones, but forwards no byte in either direction
   * until `restore()`, which lets the held bytes flow again.
   */
  stall(): void;
  /** Resets every open connection now; new connections are forwarded as before. */
  reset(): void;
  /** Ends a `cut()` or a `stall()`. */
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let mode: 'up' | 'cut' | 'stalled' = 'up';

  // By hand rather than pipe(): a stall must stop reading on both sides and resume later, and a
  // paused socket reads nothing more, so the bytes it holds wait in the kernel as they would.
  const forward = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (to.write(chunk)) return;
      from.pause();
      to.once('drain', () => {
        if (mode !== 'stalled') from.resume();
      });
    });
    from.on('end', () => to.end());
  };

  const server = net.createServer((client) => {
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    forward(client, upstream);
    forward(upstream, client);
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      });
    }
    if (mode === 'stalled') {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const destroyAll = (): void => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  };
  return {
    port: address.port,
    cut() {
      mode = 'cut';
      destroyAll();
    },
    stall() {
      if (mode === 'cut') return;
      mode = 'stalled';
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    reset() {
      for (const { client, upstream } of pairs) {
        // RST on both sides: the engine reads ECONNRESET, the server drops the session.
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
    },
    restore() {
      mode = 'up';
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        destroyAll();
        server.close(() => resolve());
      }),
  };
}
