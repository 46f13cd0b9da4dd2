/**
 * A practice's FHIR endpoint for tests: a real HTTP server on a loopback port that records what
 * it is sent and answers as the test scripts it (fail N times, 401, 429 with Retry-After, hang,
 * go down and come back).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedNotice {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Epoch ms the request's body had arrived. */
  readonly at: number;
  json(): Record<string, unknown>;
}

export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/** What to answer to the n-th request (1-based, counting every request); `hang` never answers. */
export type Script = (n: number, notice: ReceivedNotice) => Answer;

export interface NoticeReceiver {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order (including those answered with an error or left hanging). */
  readonly requests: ReceivedNotice[];
  /** The status answered to each request, in order (0 for one left hanging). */
  readonly statuses: number[];
  /** Requests answered 2xx. */
  accepted(): ReceivedNotice[];
  setScript(script: Script): void;
  /** Resolves once `count` requests have arrived (of any outcome). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
  /** Stops listening (connections refused) until `start` again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export const accept: Script = () => ({ status: 200 });

/** Answers `status` to the first `times` requests, then 200. */
export const failFirst =
  (times: number, status: number, headers?: Record<string, string>): Script =>
  (n) =>
    n <= times ? { status, ...(headers !== undefined ? { headers } : {}) } : { status: 200 };

export async function startNoticeReceiver(script: Script = accept, port = 0): Promise<NoticeReceiver> {
  let current = script;
  const requests: ReceivedNotice[] = [];
  const statuses: number[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const notice: ReceivedNotice = {
        path: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
        json: () => JSON.parse(body) as Record<string, unknown>,
      };
      requests.push(notice);
      const answer = current(requests.length, notice);
      if (answer === 'hang') {
        statuses.push(0);
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      statuses.push(answer.status);
      res.writeHead(answer.status, answer.headers ?? {}).end();
    });
  });
  let listening = false;
  const listen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve((server.address() as AddressInfo).port);
      });
    });
  const bound = await listen(port);
  const shut = (): Promise<void> =>
    new Promise((resolve) => {
      for (const r of hanging) r.destroy();
      hanging.clear();
      if (!listening) {
        resolve();
        return;
      }
      listening = false;
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    statuses,
    accepted: () => requests.filter((_, i) => (statuses[i] ?? 0) >= 200 && (statuses[i] ?? 0) < 300),
    setScript: (s) => (current = s),
    async waitForRequests(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`receiver got ${requests.length} requests, not ${count}, within ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: shut,
    stop: shut,
    start: async () => {
      await listen(bound);
    },
  };
}
