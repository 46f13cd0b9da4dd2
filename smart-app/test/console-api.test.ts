// The console's API client against a real HTTP server on a loopback port standing in for the
// engine: the session cookie policy and CSRF header on every change (never on a GET), JSON in
// and out, and every failure turned into a typed ConsoleApiError (OperationOutcome words, 401 to
// sign-in, 412 stale, 422 with its issues, 429 with the wait, a proxy's HTML page, no answer).
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  apiErrorFromResponse,
  isConsoleApiError,
  parseRetryAfter,
  type ConsoleApiError,
} from '../src/console/api/api-error';
import { createConsoleApi, sameOriginPath } from '../src/console/api/console-api';
import { startLoopbackServer, type LoopbackServer } from './fixtures/loopback-server';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let server: LoopbackServer;
let base = '';
let seen: Seen[] = [];
let answer: { status: number; body?: string; headers?: Record<string, string> } = { status: 200, body: '{}' };

beforeAll(async () => {
  server = await startLoopbackServer((req, body, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body ?? '');
  });
  base = server.base;
});

afterAll(() => server.close());

beforeEach(() => {
  seen = [];
  answer = { status: 200, body: '{}' };
});

const outcome = (issues: object[]): string =>
  JSON.stringify({ resourceType: 'OperationOutcome', issue: issues });

function client(o: { token?: string; onUnauthenticated?: (e: ConsoleApiError) => void } = {}) {
  const inits: RequestInit[] = [];
  const api = createConsoleApi({
    csrfToken: () => o.token,
    ...(o.onUnauthenticated !== undefined ? { onUnauthenticated: o.onUnauthenticated } : {}),
    fetch: (input, init) => {
      inits.push(init ?? {});
      return fetch(`${base}${input instanceof Request ? input.url : input.toString()}`, init);
    },
  });
  return { api, inits };
}

async function failure(p: Promise<unknown>): Promise<ConsoleApiError> {
  try {
    await p;
  } catch (err) {
    if (isConsoleApiError(err)) return err;
    throw err;
  }
  throw new Error('expected a ConsoleApiError');
}

describe('console API client', () => {
  it('sends the cookie policy on every request and the CSRF token only on changes', async () => {
    const { api, inits } = client({ token: 'csrf-123' });
    answer = { status: 200, body: '{"messages":[]}' };
    expect(await api.get('/api/messages?status=failed')).toEqual({ messages: [] });
    answer = { status: 202, body: '{"jobId":"j1","total":2}' };
    const started = await api.request('POST', '/api/messages/replay', { body: { ids: ['1', '2'] } });
    expect(started).toMatchObject({ status: 202, body: { jobId: 'j1', total: 2 } });

    expect(inits.map((i) => i.credentials)).toEqual(['same-origin', 'same-origin']);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/api/messages?status=failed' });
    expect(seen[0]?.headers['x-csrf-token']).toBeUndefined();
    expect(seen[0]?.headers['content-type']).toBeUndefined();
    expect(seen[1]).toMatchObject({ method: 'POST', url: '/api/messages/replay', body: '{"ids":["1","2"]}' });
    expect(seen[1]?.headers['x-csrf-token']).toBe('csrf-123');
    expect(seen[1]?.headers['content-type']).toBe('application/json');
  });

  it('sends If-Match with a deploy and reads a 204 as no body', async () => {
    const { api } = client({ token: 't' });
    answer = { status: 204 };
    const res = await api.request('PUT', '/api/mappings/rules/patient.yaml', {
      body: { content: 'x' },
      headers: { 'if-match': '"abc"' },
    });
    expect(res.body).toBeUndefined();
    expect(seen[0]?.headers['if-match']).toBe('"abc"');
    expect(seen[0]?.headers['x-csrf-token']).toBe('t');
  });

  it('keeps a `next` link on this origin whatever host the engine named', async () => {
    expect(sameOriginPath('http://localhost:8080/api/messages?before=9&_count=50')).toBe(
      '/api/messages?before=9&_count=50',
    );
    expect(sameOriginPath('https://elsewhere.example/api/messages?before=9')).toBe('/api/messages?before=9');
    expect(sameOriginPath('/api/messages?before=9')).toBe('/api/messages?before=9');
    const { api } = client();
    answer = { status: 200, body: '{"messages":[]}' };
    await api.get('http://127.0.0.2:1/api/messages?before=9');
    expect(seen[0]?.url).toBe('/api/messages?before=9');
  });

  it('turns a 401 into an unauthenticated error and tells the console', async () => {
    const ended: ConsoleApiError[] = [];
    const { api } = client({ onUnauthenticated: (e) => ended.push(e) });
    answer = {
      status: 401,
      body: outcome([{ severity: 'error', code: 'login', diagnostics: 'session expired' }]),
    };
    const err = await failure(api.get('/api/errors'));
    expect(err).toMatchObject({ name: 'ConsoleApiError', kind: 'unauthenticated', status: 401 });
    expect(err.message).toBe('session expired');
    expect(ended).toHaveLength(1);
  });

  it('maps 403, 404, 409, 412 and 428 to their kinds with the engine’s words', async () => {
    const { api } = client({ token: 't' });
    const cases: [number, string][] = [
      [403, 'forbidden'],
      [404, 'not-found'],
      [409, 'conflict'],
      [412, 'stale'],
      [428, 'precondition-required'],
    ];
    for (const [status, kind] of cases) {
      answer = { status, body: outcome([{ severity: 'error', code: 'x', diagnostics: `said ${status}` }]) };
      const err = await failure(api.request('PUT', '/api/mappings/a.yaml', { body: {} }));
      expect([err.kind, err.status, err.message]).toEqual([kind, status, `said ${status}`]);
    }
  });

  it('keeps every issue of a 422 with its file location and expression', async () => {
    const { api } = client({ token: 't' });
    answer = {
      status: 422,
      body: outcome([
        {
          severity: 'error',
          code: 'invalid',
          diagnostics: 'unknown table',
          location: ['rules/patient.yaml:22'],
        },
        {
          severity: 'error',
          code: 'invalid',
          diagnostics: 'bad path',
          expression: ['adt.yaml:3#patient.id'],
        },
      ]),
    };
    const err = await failure(api.request('POST', '/api/mappings/dry-run', { body: { files: {} } }));
    expect(err.kind).toBe('invalid');
    expect(err.issues).toEqual([
      {
        severity: 'error',
        code: 'invalid',
        diagnostics: 'unknown table',
        location: ['rules/patient.yaml:22'],
      },
      { severity: 'error', code: 'invalid', diagnostics: 'bad path', expression: ['adt.yaml:3#patient.id'] },
    ]);
  });

  it('says how long to wait after too many sign-in attempts (429 with Retry-After)', async () => {
    const { api } = client();
    answer = {
      status: 429,
      headers: { 'retry-after': '120' },
      body: outcome([{ severity: 'error', code: 'throttled', diagnostics: 'too many failed logins' }]),
    };
    const err = await failure(
      api.request('POST', '/console/auth/login', { body: { username: 'a', password: 'b' } }),
    );
    expect(err).toMatchObject({ kind: 'rate-limited', status: 429, retryAfterSec: 120 });
    expect(err.message).toBe('Too many attempts. Try again in 2 minutes.');
  });

  it('reads a body that is not an OperationOutcome (a proxy page) by its status alone', () => {
    const err = apiErrorFromResponse(502, new Headers(), '<html>Bad gateway</html>');
    expect(err).toMatchObject({ kind: 'unavailable', status: 502, issues: [] });
    expect(err.message).toBe('The engine is unavailable. Try again in a moment.');
    expect(apiErrorFromResponse(500, new Headers(), '').message).toBe('The engine answered HTTP 500.');
    // details.text stands in for diagnostics, as FHIR allows.
    const details = apiErrorFromResponse(
      400,
      new Headers(),
      outcome([{ severity: 'error', code: 'value', details: { text: 'bad _count' } }]),
    );
    expect(details.message).toBe('bad _count');
  });

  it('reports no answer at all as a network error', async () => {
    const api = createConsoleApi({
      csrfToken: () => undefined,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    const err = await failure(api.get('/api/operations'));
    expect(err).toMatchObject({ kind: 'network', status: 0 });
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
