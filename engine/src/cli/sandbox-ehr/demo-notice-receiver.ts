/**
 * The demo practice's Da Vinci endpoint: a loopback server that takes the engine's notification
 * Bundles (`POST <address>/$process-message`) and remembers each event code, so the demo shows the
 * whole path from a hospital's ADT to the PCP being told. A real practice would file them in its
 * inbox; the engine's own inbox Communications are what the SMART app lists.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Bounds one notice's body; Da Vinci bundles are a few kilobytes. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface DemoNoticeReceiver {
  /** The Endpoint.address to register. */
  readonly address: string;
  /** Event codes (MessageHeader.eventCoding.code) of the notices received, in order. */
  readonly events: readonly string[];
  /**
   * Resolves with the count once no notice has arrived for `quietMs` (deliveries run after
   * processing, a little behind), or when `maxMs` has passed.
   */
  settled(quietMs: number, maxMs: number): Promise<number>;
  close(): Promise<void>;
}

function eventCodeOf(body: string): string {
  try {
    const bundle = JSON.parse(body) as {
      entry?: { resource?: { resourceType?: string; eventCoding?: { code?: string } } }[];
    };
    const header = bundle.entry?.find((e) => e.resource?.resourceType === 'MessageHeader')?.resource;
    return header?.eventCoding?.code ?? 'unknown';
  } catch {
    return 'unreadable';
  }
}

/**
 * Starts the receiver on a free loopback port.
 * @param onNotice - told of each notice's event code as it arrives.
 */
export async function startDemoNoticeReceiver(
  onNotice: (event: string) => void = () => undefined,
): Promise<DemoNoticeReceiver> {
  const events: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || !(req.url ?? '').endsWith('/$process-message')) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const event = eventCodeOf(Buffer.concat(chunks).toString('utf8'));
      events.push(event);
      onNotice(event);
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'information', code: 'informational' }],
        }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}/fhir`,
    events,
    settled: async (quietMs, maxMs) => {
      const deadline = Date.now() + maxMs;
      let count = -1;
      let since = Date.now();
      while (Date.now() < deadline) {
        if (events.length !== count) {
          count = events.length;
          since = Date.now();
        } else if (count > 0 && Date.now() - since >= quietMs) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return events.length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
