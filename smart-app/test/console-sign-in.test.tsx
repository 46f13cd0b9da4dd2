// @vitest-environment happy-dom
// The console from its first request: the sign-in form (and the OpenID Connect button when the
// engine offers it), a wrong password and a throttled sign-in said plainly, then the signed-in
// frame with the user's role and the message browser; a 401 later returns to sign-in saying the
// session ended. The engine is a queue of answers keyed by request (no network).
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleApp } from '../src/console/console-app';

afterEach(() => {
  cleanup();
  window.history.replaceState(null, '', '/');
});

interface Call {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

/** Answers each request with the next answer queued for `METHOD path` (query ignored). */
function engine(answers: Record<string, Answer[]>): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetchImpl = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : input.toString();
    const method = init?.method ?? 'GET';
    calls.push({
      method,
      url,
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === 'string' ? init.body : undefined,
    });
    const key = `${method} ${url.split('?')[0] ?? url}`;
    const queue = answers[key] ?? [];
    const next = queue.length > 1 ? queue.shift() : queue[0];
    if (next === undefined) return Promise.resolve(new Response('', { status: 404 }));
    return Promise.resolve(
      new Response(next.body === undefined ? null : JSON.stringify(next.body), {
        status: next.status,
        headers: { 'content-type': 'application/json', ...next.headers },
      }),
    );
  };
  return { fetch: fetchImpl, calls };
}

const SIGNED_OUT = { signedIn: false, methods: { password: true, oidc: true } };

/** The engine's session answer for a signed-in user. */
function signedIn(name: string, role: 'analyst' | 'admin', csrfToken: string): Answer {
  return {
    status: 200,
    body: {
      signedIn: true,
      user: { name, role },
      csrfToken,
      expiresAt: '2030-01-01T00:00:00Z',
      methods: { password: true, oidc: false },
    },
  };
}
const LOGIN_FAILED = {
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'login', diagnostics: 'unknown user or wrong password' }],
};

function signIn(name: string, password: string): void {
  fireEvent.change(screen.getByLabelText('User name'), { target: { value: name } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('console sign-in', () => {
  it('signs in after a wrong password and a throttled attempt, then shows the message browser', async () => {
    window.history.replaceState(null, '', '/console/');
    const e = engine({
      'GET /console/auth/session': [{ status: 200, body: SIGNED_OUT }],
      'POST /console/auth/login': [
        { status: 401, body: LOGIN_FAILED },
        { status: 429, body: LOGIN_FAILED, headers: { 'retry-after': '300' } },
        {
          status: 200,
          body: {
            signedIn: true,
            user: { name: 'ana', role: 'analyst' },
            csrfToken: 'tok-1',
            expiresAt: '2030-01-01T00:00:00Z',
          },
        },
      ],
      'GET /api/messages': [{ status: 200, body: { messages: [] } }],
    });
    render(<ConsoleApp fetch={e.fetch} />);

    await screen.findByRole('heading', { name: 'Analyst console' });
    expect(screen.getByRole('link', { name: /OpenID Connect/ }).getAttribute('href')).toBe(
      '/console/auth/oidc/login',
    );

    signIn('ana', 'wrong');
    expect((await screen.findByRole('alert')).textContent).toBe('The user name or password is not right.');
    expect(screen.getByLabelText<HTMLInputElement>('Password').value).toBe('');

    signIn('ana', 'wrong-again');
    await waitFor(() => {
      expect(screen.getByRole('alert').textContent).toBe('Too many attempts. Try again in 5 minutes.');
    });

    signIn('ana', 'right');
    await screen.findByRole('heading', { name: 'Messages' });
    expect(screen.getByText('ana')).toBeDefined();
    expect(screen.getByRole('link', { name: 'Messages' }).getAttribute('aria-current')).toBe('page');
    await screen.findByText('No messages match.');

    const logins = e.calls.filter((c) => c.url === '/console/auth/login');
    expect(logins.map((c) => JSON.parse(c.body ?? '{}') as unknown)).toEqual([
      { username: 'ana', password: 'wrong' },
      { username: 'ana', password: 'wrong-again' },
      { username: 'ana', password: 'right' },
    ]);
    // Signing in is itself a change, but there is no session (and no token) before it.
    expect(logins.every((c) => c.headers['x-csrf-token'] === undefined)).toBe(true);
    expect(e.calls.some((c) => c.url.startsWith('/api/messages?') && c.url.includes('_count=50'))).toBe(true);
  });

  it('returns to sign-in when the session ends under a screen', async () => {
    window.history.replaceState(null, '', '/console/errors');
    const e = engine({
      'GET /console/auth/session': [
        signedIn('root', 'admin', 'tok-2'),
        { status: 200, body: { signedIn: false, methods: { password: true, oidc: false } } },
      ],
      'GET /api/errors': [{ status: 401, body: LOGIN_FAILED }],
    });
    render(<ConsoleApp fetch={e.fetch} />);
    await screen.findByRole('heading', { name: 'Errors' });
    await screen.findByText('Your session has ended. Sign in again.');
    expect(screen.getByLabelText('User name')).toBeDefined();
    expect(screen.queryByRole('link', { name: /OpenID Connect/ })).toBeNull();
  });

  it('signs out with the CSRF token and forgets what it read', async () => {
    window.history.replaceState(null, '', '/console/operations');
    const e = engine({
      'GET /console/auth/session': [signedIn('root', 'admin', 'tok-3')],
      'GET /api/operations': [
        {
          status: 200,
          body: {
            since: '2026-01-01T00:00:00Z',
            senders: [
              {
                sender: 'MERCY',
                received: 10,
                processed: 9,
                failed: 1,
                rejected: 0,
                ignored: 0,
                errorRate: 0.1,
              },
            ],
            ack: { count: 10, p50Ms: 4, p95Ms: 12, p99Ms: 30 },
            queues: [{ name: 'process', waiting: 0, active: 1, delayed: 0, failed: 1, completed: 9 }],
            deliveries: { pending: 0, retrying: 1, delivered: 3, failed: 0 },
          },
        },
      ],
      'POST /console/auth/logout': [{ status: 204 }],
    });
    render(<ConsoleApp fetch={e.fetch} />);
    await screen.findByRole('rowheader', { name: 'MERCY' });
    expect(screen.getByRole('link', { name: 'Queues (Bull Board)' }).getAttribute('href')).toBe(
      '/console/queues',
    );
    expect(screen.getByText('10.0%')).toBeDefined();
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await screen.findByLabelText('User name');
    const logout = e.calls.find((c) => c.url === '/console/auth/logout');
    expect(logout?.headers['x-csrf-token']).toBe('tok-3');
  });
});
