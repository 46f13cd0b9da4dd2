/**
 * The practice's endpoint in the notification benchmark: a loopback HTTP server that answers 200
 * and notes, per Da Vinci message, when it arrived, which notice it is (Bundle.identifier) and
 * which visit it is about (the Encounter's identifier), so the benchmark can match it to the A01.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';

export interface ArrivedNotice {
  /** performance.now() when the body had arrived. */
  readonly at: number;
  /** Bundle.identifier.value (`urn:uuid:<notice id>`). */
  readonly noticeId: string | undefined;
  /** The focus Encounter's identifier value: PV1-19, the visit number. */
  readonly visit: string | undefined;
}

export interface BenchNoticeReceiver {
  /** The Endpoint.address to register: `${url}/fhir`. */
  readonly url: string;
  readonly notices: readonly ArrivedNotice[];
  /** Requests to any other path, or whose body was not a message Bundle. */
  readonly unexpected: number;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/** What the benchmark needs of a notification Bundle; undefined for anything else. */
function readNotice(body: string, at: number): ArrivedNotice | undefined {
  let bundle: Json | undefined;
  try {
    bundle = obj(JSON.parse(body));
  } catch {
    return undefined;
  }
  if (bundle?.['resourceType'] !== 'Bundle' || bundle['type'] !== 'message') return undefined;
  const noticeId = obj(bundle['identifier'])?.['value'];
  const entries = Array.isArray(bundle['entry']) ? bundle['entry'] : [];
  const encounter = entries
    .map((e) => obj(obj(e)?.['resource']))
    .find((r) => r?.['resourceType'] === 'Encounter');
  const identifiers = Array.isArray(encounter?.['identifier']) ? encounter['identifier'] : [];
  const visit = identifiers.map((i) => obj(i)?.['value']).find((v) => typeof v === 'string');
  return { at, noticeId: typeof noticeId === 'string' ? noticeId : undefined, visit };
}

/** Starts the receiver on an ephemeral loopback port. */
export async function startBenchNoticeReceiver(): Promise<BenchNoticeReceiver> {
  const notices: ArrivedNotice[] = [];
  let unexpected = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Timed before parsing: the latency is the engine's, not this server's JSON.parse.
      const at = performance.now();
      const notice =
        req.method === 'POST' && req.url === '/fhir/$process-message'
          ? readNotice(Buffer.concat(chunks).toString('utf8'), at)
          : undefined;
      if (notice === undefined) unexpected++;
      else notices.push(notice);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/fhir`,
    notices,
    get unexpected() {
      return unexpected;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Waits until a notice has arrived for every visit in `visits`, or `maxMs` passes, or (when
 * `quietMs` is given) none of them has arrived for that long: an engine behind but still
 * delivering is waited for, so a notice counted as lost was not merely late.
 * @returns how many of the visits have a notice.
 */
export async function awaitVisits(
  receiver: BenchNoticeReceiver,
  visits: ReadonlySet<string>,
  o: { readonly maxMs: number; readonly quietMs?: number },
): Promise<number> {
  const seen = new Set<string>();
  let read = 0;
  let lastProgress = performance.now();
  const deadline = lastProgress + o.maxMs;
  for (;;) {
    const before = seen.size;
    for (; read < receiver.notices.length; read++) {
      const visit = receiver.notices[read]?.visit;
      if (visit !== undefined && visits.has(visit)) seen.add(visit);
    }
    const now = performance.now();
    if (seen.size >= visits.size || now >= deadline) return seen.size;
    if (seen.size > before) lastProgress = now;
    else if (o.quietMs !== undefined && now - lastProgress > o.quietMs) return seen.size;
    // Short enough that the drain phase's timing is not the poll's.
    await sleep(20);
  }
}
