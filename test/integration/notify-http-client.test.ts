/**
 * The HTTP delivery edge against real receivers on loopback ports: what gets through, what is
 * refused before any connection (SSRF, DNS rebinding), and how timeouts and dead ports surface.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  checkEndpointUrl,
  parseAllowedHosts,
  PUBLIC_ONLY_POLICY,
  type ResolveHost,
} from '../../engine/src/notify/endpoint-address-policy';
import { isDeliveryError, type DeliveryError } from '../../engine/src/notify/notify-error';
import { closeHttpAgents, MAX_ANSWER_BYTES, postJson } from '../../engine/src/notify/safe-http-client';

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface Receiver {
  readonly port: number;
  readonly requests: Received[];
  /** TCP connections accepted, to tell "refused before connecting" from "connected, then refused". */
  connections: number;
  readonly close: () => Promise<void>;
}

const receivers: Receiver[] = [];
const LOOPBACK = parseAllowedHosts('127.0.0.1');

async function startReceiver(
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  tls?: https.ServerOptions,
): Promise<Receiver> {
  const requests: Received[] = [];
  const server = tls === undefined ? http.createServer() : https.createServer(tls);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    port: (server.address() as AddressInfo).port,
    requests,
    connections: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  // 'secureConnection' for TLS would miss handshakes that fail; 'connection' counts every socket.
  server.on('connection', () => receiver.connections++);
  receivers.push(receiver);
  return receiver;
}

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const err: unknown = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  if (!isDeliveryError(err)) throw new Error(`expected a DeliveryError, got ${String(err)}`);
  return err;
}

const body = JSON.stringify({ resourceType: 'Bundle', type: 'message', entry: [] });

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(() => closeHttpAgents());

describe('postJson delivers', () => {
  it('posts the body and headers and returns the answer', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(202, { 'Content-Type': 'application/fhir+json', 'Retry-After': '3', 'X-Other': 'y' });
      res.end('{"resourceType":"OperationOutcome"}');
    });
    const answer = await postJson(
      `http://127.0.0.1:${receiver.port}/fhir/$process-message?x=1`,
      body,
      { Authorization: 'Bearer t0ken' },
      { policy: LOOPBACK, timeoutMs: 2_000 },
    );
    expect(answer).toMatchObject({
      status: 202,
      body: '{"resourceType":"OperationOutcome"}',
      headers: { 'content-type': 'application/fhir+json', 'retry-after': '3', 'x-other': 'y' },
    });
    expect(answer.latencyMs).toBeGreaterThan(0);
    expect(answer.latencyMs).toBeLessThan(2_000);
    expect(receiver.requests).toHaveLength(1);
    const [received] = receiver.requests;
    expect(received).toMatchObject({ method: 'POST', url: '/fhir/$process-message?x=1', body });
    expect(received?.headers).toMatchObject({
      'content-type': 'application/fhir+json',
      authorization: 'Bearer t0ken',
      'content-length': String(Buffer.byteLength(body)),
    });
  });

  it('keeps a caller-given Content-Type', async () => {
    const receiver = await startReceiver((_req, res) => res.end());
    await postJson(
      `http://127.0.0.1:${receiver.port}/`,
      body,
      { 'content-type': 'application/json' },
      {
        policy: LOOPBACK,
        timeoutMs: 2_000,
      },
    );
    expect(receiver.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('reuses connections (keep-alive) instead of opening one per notice', async () => {
    const receiver = await startReceiver((_req, res) => res.end('ok'));
    for (let i = 0; i < 5; i++) {
      const answer = await postJson(
        `http://127.0.0.1:${receiver.port}/`,
        body,
        {},
        { policy: LOOPBACK, timeoutMs: 2_000 },
      );
      expect(answer.status).toBe(200);
    }
    expect(receiver.requests).toHaveLength(5);
    expect(receiver.connections).toBe(1);
  });

  it('cuts an answer at 64 KiB', async () => {
    const receiver = await startReceiver((_req, res) => res.end('x'.repeat(MAX_ANSWER_BYTES * 3)));
    const answer = await postJson(
      `http://127.0.0.1:${receiver.port}/`,
      body,
      {},
      { policy: LOOPBACK, timeoutMs: 2_000 },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(MAX_ANSWER_BYTES);
  });
});

describe('postJson does not follow redirects', () => {
  it('returns the 3xx, and the Location target gets no request', async () => {
    const target = await startReceiver((_req, res) => res.end('followed'));
    const redirector = await startReceiver((_req, res) => {
      res.writeHead(307, { Location: `http://127.0.0.1:${target.port}/elsewhere` });
      res.end();
    });
    const answer = await postJson(
      `http://127.0.0.1:${redirector.port}/`,
      body,
      {},
      { policy: LOOPBACK, timeoutMs: 2_000 },
    );
    expect(answer.status).toBe(307);
    expect(answer.headers['location']).toBe(`http://127.0.0.1:${target.port}/elsewhere`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(target.requests).toHaveLength(0);
    expect(target.connections).toBe(0);
  });
});

describe('postJson failures', () => {
  it('a receiver that never answers → endpoint-timeout within about timeoutMs', async () => {
    const receiver = await startReceiver(() => undefined);
    const started = Date.now();
    const err = await failure(
      postJson(`http://127.0.0.1:${receiver.port}/`, body, {}, { policy: LOOPBACK, timeoutMs: 300 }),
    );
    const elapsed = Date.now() - started;
    expect(err).toMatchObject({ code: 'endpoint-timeout', transient: true });
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_500);
    expect(receiver.requests).toHaveLength(1);
  });

  it('a receiver that trickles its answer → endpoint-timeout: the timeout covers the whole answer', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(200);
      const tick = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(tick));
    });
    const started = Date.now();
    const err = await failure(
      postJson(`http://127.0.0.1:${receiver.port}/`, body, {}, { policy: LOOPBACK, timeoutMs: 400 }),
    );
    expect(err.code).toBe('endpoint-timeout');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a closed port → endpoint-unreachable (transient)', async () => {
    const port = await closedPort();
    const err = await failure(
      postJson(`http://127.0.0.1:${port}/`, body, {}, { policy: LOOPBACK, timeoutMs: 2_000 }),
    );
    expect(err).toMatchObject({ code: 'endpoint-unreachable', transient: true });
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('a name that does not resolve → endpoint-unreachable', async () => {
    const lookup: ResolveHost = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    const err = await failure(
      postJson('http://nowhere.test/', body, {}, { policy: LOOPBACK, timeoutMs: 2_000, lookup }),
    );
    expect(err).toMatchObject({ code: 'endpoint-unreachable', transient: true });
  });

  it('verifies TLS: a certificate from an untrusted CA → endpoint-unreachable, nothing posted', async () => {
    const receiver = await startReceiver((_req, res) => res.end('ok'), {
      cert: readFileSync('test/fixtures/tls/server.pem'),
      key: readFileSync('test/fixtures/tls/server-key.pem'),
    });
    const err = await failure(
      postJson(`https://127.0.0.1:${receiver.port}/`, body, {}, { policy: LOOPBACK, timeoutMs: 2_000 }),
    );
    expect(err.code).toBe('endpoint-unreachable');
    expect(receiver.requests).toHaveLength(0);
  });

  it('keeps query strings and credentials out of error messages', async () => {
    const port = await closedPort();
    const err = await failure(
      postJson(
        `http://127.0.0.1:${port}/fhir?patient=MRN123`,
        body,
        {},
        { policy: LOOPBACK, timeoutMs: 2_000 },
      ),
    );
    expect(err.message).not.toContain('MRN123');
    const withUser = await failure(
      postJson(`http://admin:hunter2@127.0.0.1:${port}/`, body, {}, { policy: LOOPBACK, timeoutMs: 2_000 }),
    );
    expect(withUser.code).toBe('endpoint-refused');
    expect(withUser.message).not.toContain('hunter2');
  });
});

describe('SSRF protection', () => {
  it('with no allowance, http://127.0.0.1:port is refused and the receiver sees nothing', async () => {
    const receiver = await startReceiver((_req, res) => res.end('ok'));
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '2130706433', '[::1]']) {
      const err = await failure(
        postJson(
          `http://${host}:${receiver.port}/`,
          body,
          {},
          { policy: PUBLIC_ONLY_POLICY, timeoutMs: 2_000 },
        ),
      );
      expect(err).toMatchObject({ code: 'endpoint-refused', transient: false });
    }
    expect(receiver.connections).toBe(0);
  });

  it.each([
    'http://10.0.0.1/',
    'http://169.254.169.254/latest/meta-data',
    'http://[fd00::1]/',
    'http://100.64.0.1/',
  ])('refuses %s without connecting (fast)', async (url) => {
    const started = Date.now();
    const err = await failure(postJson(url, body, {}, { policy: PUBLIC_ONLY_POLICY, timeoutMs: 5_000 }));
    expect(err.code).toBe('endpoint-refused');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await checkEndpointUrl(url, PUBLIC_ONLY_POLICY)).toMatchObject({ ok: false });
  });

  it('refuses a name resolving to loopback at connect time', async () => {
    const receiver = await startReceiver((_req, res) => res.end('ok'));
    const lookup: ResolveHost = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    const err = await failure(
      postJson(
        `http://internal.test:${receiver.port}/`,
        body,
        {},
        { policy: PUBLIC_ONLY_POLICY, timeoutMs: 2_000, lookup },
      ),
    );
    expect(err.code).toBe('endpoint-refused');
    expect(receiver.connections).toBe(0);
  });

  it('DNS rebinding: public at registration, loopback at connect → refused, receiver sees nothing', async () => {
    const receiver = await startReceiver((_req, res) => res.end('ok'));
    let calls = 0;
    const lookup: ResolveHost = () => {
      calls++;
      return Promise.resolve([{ address: calls === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }]);
    };
    const url = `http://rebind.test:${receiver.port}/`;
    expect(await checkEndpointUrl(url, PUBLIC_ONLY_POLICY, lookup)).toEqual({ ok: true });
    const err = await failure(
      postJson(url, body, {}, { policy: PUBLIC_ONLY_POLICY, timeoutMs: 2_000, lookup }),
    );
    expect(err).toMatchObject({ code: 'endpoint-refused', transient: false });
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(receiver.connections).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });

  it('with 127.0.0.1 allowed, the loopback post succeeds', async () => {
    const receiver = await startReceiver((_req, res) => res.end('ok'));
    const answer = await postJson(
      `http://127.0.0.1:${receiver.port}/`,
      body,
      {},
      { policy: LOOPBACK, timeoutMs: 2_000 },
    );
    expect(answer.status).toBe(200);
    expect(receiver.requests).toHaveLength(1);
  });

  it('a host allowed by name connects whatever it resolves to', async () => {
    const receiver = await startReceiver((_req, res) => res.end('ok'));
    const lookup: ResolveHost = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    const answer = await postJson(
      `http://receiver.internal:${receiver.port}/`,
      body,
      {},
      {
        policy: parseAllowedHosts('receiver.internal'),
        timeoutMs: 2_000,
        lookup,
      },
    );
    expect(answer.status).toBe(200);
    expect(receiver.requests[0]?.headers.host).toBe(`receiver.internal:${receiver.port}`);
  });
});
