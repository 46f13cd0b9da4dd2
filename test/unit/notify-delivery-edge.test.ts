/**
 * The pure parts of the notification delivery edge: what an answer means, how long to wait, which
 * addresses may be reached, webhook signatures and the per-endpoint breaker.
 */
import { describe, expect, it } from 'vitest';
import { classifyAnswer, classifyError, MAX_RETRY_AFTER_MS } from '../../engine/src/notify/delivery-outcome';
import {
  checkEndpointUrl,
  isAddressAllowed,
  parseAllowedHosts,
  PUBLIC_ONLY_POLICY,
} from '../../engine/src/notify/endpoint-address-policy';
import { EndpointBreakers } from '../../engine/src/notify/endpoint-breakers';
import {
  DeliveryError,
  DeliveryErrorCode,
  describeEndpoint,
  isDeliveryError,
} from '../../engine/src/notify/notify-error';
import { parseRetryAfter, retryDelayMs } from '../../engine/src/notify/retry-delay';
import type { HttpAnswer } from '../../engine/src/notify/safe-http-client';
import {
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
} from '../../engine/src/notify/webhook-signature';

function answer(status: number, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers, body: '', latencyMs: 1 };
}

/** mulberry32: a small seeded generator, so jitter tests are repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('classifyAnswer', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it.each([200, 201, 202, 204])('%s is delivered', (status) => {
    expect(classifyAnswer(answer(status), now)).toEqual({ kind: 'delivered' });
  });

  it.each([400, 401, 403, 404, 409, 410, 413, 422])('%s is permanent, not resent', (status) => {
    expect(classifyAnswer(answer(status), now)).toMatchObject({ kind: 'permanent', status });
  });

  it.each([301, 302, 303, 307, 308])('%s is permanent: redirects are not followed', (status) => {
    const verdict = classifyAnswer(answer(status, { location: 'http://169.254.169.254/' }), now);
    expect(verdict).toMatchObject({ kind: 'permanent', status });
    expect(verdict.kind === 'permanent' && verdict.reason).toMatch(/redirect/);
  });

  it.each([408, 500, 502, 503, 504])('%s is retried', (status) => {
    const verdict = classifyAnswer(answer(status), now);
    expect(verdict).toMatchObject({ kind: 'retry', status });
    expect(verdict).not.toHaveProperty('afterMs');
  });

  it('429 honours Retry-After in seconds', () => {
    expect(classifyAnswer(answer(429, { 'retry-after': '120' }), now)).toMatchObject({
      kind: 'retry',
      status: 429,
      afterMs: 120_000,
    });
  });

  it('429 honours Retry-After as an HTTP date', () => {
    const at = new Date(now + 90_000).toUTCString();
    expect(classifyAnswer(answer(429, { 'retry-after': at }), now)).toMatchObject({
      kind: 'retry',
      afterMs: 90_000,
    });
  });

  it('503 honours Retry-After too', () => {
    expect(classifyAnswer(answer(503, { 'retry-after': '5' }), now)).toMatchObject({
      kind: 'retry',
      afterMs: 5_000,
    });
  });

  it('caps Retry-After at an hour', () => {
    expect(classifyAnswer(answer(429, { 'retry-after': '999999' }), now)).toMatchObject({
      afterMs: MAX_RETRY_AFTER_MS,
    });
    expect(MAX_RETRY_AFTER_MS).toBe(3_600_000);
  });

  it('never quotes the answer body in its reason', () => {
    const verdict = classifyAnswer({
      status: 400,
      headers: {},
      body: 'Patient DOE^JOHN is invalid',
      latencyMs: 1,
    });
    expect(JSON.stringify(verdict)).not.toContain('DOE');
  });
});

describe('classifyError', () => {
  it.each<[DeliveryErrorCode, 'retry' | 'permanent']>([
    [DeliveryErrorCode.EndpointTimeout, 'retry'],
    [DeliveryErrorCode.EndpointUnreachable, 'retry'],
    [DeliveryErrorCode.EndpointBusy, 'retry'],
    [DeliveryErrorCode.CircuitOpen, 'retry'],
    [DeliveryErrorCode.EndpointRefused, 'permanent'],
    [DeliveryErrorCode.EndpointRejected, 'permanent'],
  ])('%s → %s', (code, kind) => {
    expect(classifyError(new DeliveryError(code, 'm'))).toMatchObject({ kind, reason: 'm' });
  });

  it('carries the status and the wait the error asked for', () => {
    const err = new DeliveryError(DeliveryErrorCode.CircuitOpen, 'open', { retryAfterMs: 1234, status: 503 });
    expect(classifyError(err)).toEqual({ kind: 'retry', reason: 'open', status: 503, afterMs: 1234 });
  });

  it('judges other errors by isTransient, naming only their code', () => {
    expect(classifyError(new Error('socket hang up with PID|DOE'))).toEqual({
      kind: 'retry',
      reason: 'delivery failed (Error)',
    });
    expect(classifyError(Object.assign(new Error('x'), { transient: false }))).toMatchObject({
      kind: 'permanent',
    });
  });
});

describe('DeliveryError', () => {
  it('is transient exactly for the codes a retry can help', () => {
    const transient = Object.values(DeliveryErrorCode).filter(
      (code) => new DeliveryError(code, 'm').transient,
    );
    expect(transient.sort()).toEqual([
      'circuit-open',
      'endpoint-busy',
      'endpoint-timeout',
      'endpoint-unreachable',
    ]);
  });

  it('is recognised by name and keeps status and retryAfterMs', () => {
    const err = new DeliveryError(DeliveryErrorCode.EndpointBusy, 'busy', { status: 429, retryAfterMs: 10 });
    expect(isDeliveryError(err)).toBe(true);
    expect(isDeliveryError(new Error('busy'))).toBe(false);
    expect({ name: err.name, code: err.code, status: err.status, retryAfterMs: err.retryAfterMs }).toEqual({
      name: 'DeliveryError',
      code: 'endpoint-busy',
      status: 429,
      retryAfterMs: 10,
    });
  });

  it('describes endpoints without query strings or credentials', () => {
    expect(
      describeEndpoint('https://user:secret@pcp.example.org:8443/fhir/$process-message?patient=123'),
    ).toBe('https://pcp.example.org:8443/fhir/$process-message');
  });
});

describe('retryDelayMs', () => {
  const o = { baseMs: 1_000, maxMs: 60_000 };

  it('stays between half and all of the exponential ceiling', () => {
    const random = seeded(42);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const delay = retryDelayMs(attempt, o, random);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('grows with the attempt until the maximum', () => {
    const mean = (attempt: number): number => {
      const random = seeded(7);
      let sum = 0;
      for (let i = 0; i < 200; i++) sum += retryDelayMs(attempt, o, random);
      return sum / 200;
    };
    const means = [1, 2, 3, 4, 5, 6].map(mean);
    for (let i = 1; i < means.length; i++) expect(means[i]!).toBeGreaterThan(means[i - 1]! * 1.8);
    expect(mean(20)).toBeLessThanOrEqual(o.maxMs);
    expect(mean(20)).toBeGreaterThan(o.maxMs / 2);
  });

  it('hits both ends of the jitter range', () => {
    expect(retryDelayMs(3, o, () => 0)).toBe(2_000);
    expect(retryDelayMs(3, o, () => 0.999999)).toBe(4_000);
  });

  it('treats attempts below 1 as the first and huge ones as the maximum', () => {
    expect(retryDelayMs(0, o, () => 0)).toBe(500);
    expect(retryDelayMs(Number.NaN, o, () => 0)).toBe(500);
    expect(retryDelayMs(5_000, o, () => 0)).toBe(30_000);
  });

  it('varies with the random source (jitter is real)', () => {
    const random = seeded(1);
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(6, o, random)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it.each<[string | undefined, number | undefined]>([
    ['120', 120_000],
    [' 0 ', 0],
    ['Sat, 01 Mar 2025 12:01:00 GMT', 60_000],
    ['Saturday, 01-Mar-25 12:00:30 GMT', 30_000],
    ['Sat, 01 Mar 2025 11:00:00 GMT', 0],
    [undefined, undefined],
    ['', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('parseAllowedHosts', () => {
  it('reads host names, addresses and CIDRs', () => {
    const policy = parseAllowedHosts(' 127.0.0.1, 10.0.0.0/8 ,::1,Receiver.Internal.,[fd00::1],fd12::/16,');
    expect([...policy.hostnames]).toEqual(['receiver.internal']);
    expect(policy.ranges.map(([address, bits]) => `${address.toString()}/${bits}`)).toEqual([
      '127.0.0.1/32',
      '10.0.0.0/8',
      '::1/128',
      'fd00::1/128',
      'fd12::/16',
    ]);
  });

  it('allows nothing extra when unset or blank', () => {
    expect(parseAllowedHosts(undefined)).toEqual({ hostnames: new Set(), ranges: [] });
    expect(parseAllowedHosts(' , ')).toEqual({ hostnames: new Set(), ranges: [] });
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.300',
    '300.1.1.1',
    'receiver.internal:8443',
    '*.internal',
    'http://x',
    'a b',
    '::1/129',
  ])('refuses %j, naming it', (entry) => {
    expect(() => parseAllowedHosts(`127.0.0.1,${entry}`)).toThrow(entry);
  });
});

describe('isAddressAllowed', () => {
  it.each([
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '127.0.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '100.64.0.1',
    '192.0.2.1',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::127.0.0.1',
    'fd00::1',
    'fc00::1',
    'fe80::1',
    'ff02::1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    'not-an-ip',
    '127.1',
  ])('refuses %s with no allowance', (ip) => {
    expect(isAddressAllowed(ip, PUBLIC_ONLY_POLICY)).toBe(false);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows public %s',
    (ip) => {
      expect(isAddressAllowed(ip, PUBLIC_ONLY_POLICY)).toBe(true);
    },
  );

  it('allows a listed address, and its IPv4-mapped form, but not its neighbours', () => {
    const policy = parseAllowedHosts('127.0.0.1');
    expect(isAddressAllowed('127.0.0.1', policy)).toBe(true);
    expect(isAddressAllowed('::ffff:127.0.0.1', policy)).toBe(true);
    expect(isAddressAllowed('127.0.0.2', policy)).toBe(false);
    expect(isAddressAllowed('::1', policy)).toBe(false);
  });

  it('allows addresses inside a listed CIDR', () => {
    const policy = parseAllowedHosts('10.0.0.0/8,fd00::/8');
    expect(isAddressAllowed('10.20.30.40', policy)).toBe(true);
    expect(isAddressAllowed('fd00::1', policy)).toBe(true);
    expect(isAddressAllowed('11.0.0.1', policy)).toBe(true); // public anyway
    expect(isAddressAllowed('192.168.0.1', policy)).toBe(false);
    expect(isAddressAllowed('169.254.169.254', policy)).toBe(false);
  });
});

describe('checkEndpointUrl', () => {
  const resolveTo =
    (...addresses: string[]) =>
    (): Promise<{ address: string; family: number }[]> =>
      Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

  it('accepts a public host and refuses one resolving (even partly) to a private address', async () => {
    expect(
      await checkEndpointUrl('https://pcp.example/fhir', PUBLIC_ONLY_POLICY, resolveTo('93.184.216.34')),
    ).toEqual({ ok: true });
    const mixed = await checkEndpointUrl(
      'https://pcp.example/fhir',
      PUBLIC_ONLY_POLICY,
      resolveTo('93.184.216.34', '10.0.0.1'),
    );
    expect(mixed).toMatchObject({ ok: false, reason: expect.stringContaining('10.0.0.1') as unknown });
  });

  it('refuses other schemes, credentials and unparseable URLs', async () => {
    for (const url of ['ftp://pcp.example/', 'file:///etc/passwd', 'https://u:p@pcp.example/', 'not a url']) {
      expect(await checkEndpointUrl(url, PUBLIC_ONLY_POLICY, resolveTo('93.184.216.34'))).toMatchObject({
        ok: false,
      });
    }
  });

  it('allows a host listed by name whatever it resolves to, without resolving it', async () => {
    const policy = parseAllowedHosts('receiver.internal');
    const never = (): Promise<never> => Promise.reject(new Error('must not resolve'));
    expect(await checkEndpointUrl('http://RECEIVER.internal:9000/x', policy, never)).toEqual({ ok: true });
  });

  it('reports a DNS failure as not ok', async () => {
    const fail = (): Promise<never> =>
      Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    expect(await checkEndpointUrl('https://nowhere.example/', PUBLIC_ONLY_POLICY, fail)).toEqual({
      ok: false,
      reason: 'host nowhere.example could not be resolved (ENOTFOUND)',
    });
  });
});

describe('webhook signature', () => {
  const secret = 'whsec_test';
  const body = '{"resourceType":"Bundle"}';

  it('names its header and verifies its own signature', () => {
    expect(WEBHOOK_SIGNATURE_HEADER).toBe('X-Care-Signature');
    const header = signWebhook(secret, body, 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(secret, body, header, 1_700_000_100)).toBe(true);
  });

  it('matches an HMAC-SHA256 of "<t>.<body>" computed independently', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signWebhook(secret, body, 1_700_000_000.9)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('refuses a tampered body, a wrong secret, an old or future timestamp and junk', () => {
    const header = signWebhook(secret, body, 1_700_000_000);
    expect(verifyWebhookSignature(secret, body.replace('Bundle', 'Bundlf'), header, 1_700_000_000)).toBe(
      false,
    );
    expect(verifyWebhookSignature('other', body, header, 1_700_000_000)).toBe(false);
    expect(verifyWebhookSignature(secret, body, header, 1_700_000_301)).toBe(false);
    expect(verifyWebhookSignature(secret, body, header, 1_699_999_699)).toBe(false);
    expect(verifyWebhookSignature(secret, body, header, 1_700_000_301, 600)).toBe(true);
    expect(verifyWebhookSignature(secret, body, undefined, 1_700_000_000)).toBe(false);
    expect(verifyWebhookSignature(secret, body, 'v1=abc', 1_700_000_000)).toBe(false);
    expect(
      verifyWebhookSignature(secret, body, header.replace('t=1700000000', 't=1700000001'), 1_700_000_000),
    ).toBe(false);
  });

  it('accepts any of several v1 values (secret rotation)', () => {
    const header = signWebhook(secret, body, 1_700_000_000);
    const old = signWebhook('old-secret', body, 1_700_000_000).split(',v1=')[1]!;
    expect(verifyWebhookSignature(secret, body, `${header},v1=${old}`, 1_700_000_000)).toBe(true);
    expect(verifyWebhookSignature('old-secret', body, `${header},v1=${old}`, 1_700_000_000)).toBe(true);
  });
});

describe('EndpointBreakers', () => {
  const busy = (): Promise<never> =>
    Promise.reject(new DeliveryError(DeliveryErrorCode.EndpointBusy, 'busy'));
  const rejected = (): Promise<never> =>
    Promise.reject(new DeliveryError(DeliveryErrorCode.EndpointRejected, '401', { status: 401 }));
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  it('opens after N transient failures in a row, then refuses with circuit-open', async () => {
    const breakers = new EndpointBreakers({ consecutiveFailures: 3, halfOpenAfterMs: 10_000 });
    for (let i = 0; i < 2; i++) await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow('busy');
    expect(breakers.state('Endpoint/a')).toBe('closed');
    await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow('busy');
    expect(breakers.state('Endpoint/a')).toBe('open');

    let called = false;
    const err: unknown = await breakers
      .run('Endpoint/a', () => {
        called = true;
        return Promise.resolve('x');
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(isDeliveryError(err) && err.code).toBe('circuit-open');
    expect(isDeliveryError(err) && err.transient).toBe(true);
    const wait = isDeliveryError(err) ? (err.retryAfterMs ?? 0) : 0;
    expect(wait).toBeGreaterThan(9_000);
    expect(wait).toBeLessThanOrEqual(10_000);
    expect(breakers.state('Endpoint/b')).toBe('closed');
  });

  it('does not open on permanent answers', async () => {
    const breakers = new EndpointBreakers({ consecutiveFailures: 2, halfOpenAfterMs: 10_000 });
    for (let i = 0; i < 10; i++) await expect(breakers.run('Endpoint/a', rejected)).rejects.toThrow('401');
    expect(breakers.state('Endpoint/a')).toBe('closed');
  });

  it('does not count plain errors (bugs) as the endpoint failing', async () => {
    const breakers = new EndpointBreakers({ consecutiveFailures: 2 });
    for (let i = 0; i < 5; i++) {
      await expect(breakers.run('Endpoint/a', () => Promise.reject(new TypeError('bug')))).rejects.toThrow(
        'bug',
      );
    }
    expect(breakers.state('Endpoint/a')).toBe('closed');
  });

  it('a success resets the count of failures in a row', async () => {
    const breakers = new EndpointBreakers({ consecutiveFailures: 3 });
    for (let i = 0; i < 5; i++) {
      await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow();
      await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow();
      await expect(breakers.run('Endpoint/a', () => Promise.resolve(1))).resolves.toBe(1);
    }
    expect(breakers.state('Endpoint/a')).toBe('closed');
  });

  it('lets a probe through after halfOpenAfterMs and closes on its success', async () => {
    const breakers = new EndpointBreakers({ consecutiveFailures: 2, halfOpenAfterMs: 50 });
    await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow();
    await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow();
    expect(breakers.state('Endpoint/a')).toBe('open');
    await sleep(70);
    await expect(breakers.run('Endpoint/a', () => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(breakers.state('Endpoint/a')).toBe('closed');
  });

  it('reopens when the probe fails', async () => {
    const breakers = new EndpointBreakers({ consecutiveFailures: 2, halfOpenAfterMs: 50 });
    await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow();
    await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow();
    await sleep(70);
    await expect(breakers.run('Endpoint/a', busy)).rejects.toThrow('busy');
    expect(breakers.state('Endpoint/a')).toBe('open');
    await expect(breakers.run('Endpoint/a', () => Promise.resolve(1))).rejects.toMatchObject({
      code: 'circuit-open',
    });
  });

  it('forgets the least recently used endpoints beyond its bound', async () => {
    const breakers = new EndpointBreakers({ consecutiveFailures: 1, maxEndpoints: 3 });
    await expect(breakers.run('Endpoint/old', busy)).rejects.toThrow();
    expect(breakers.state('Endpoint/old')).toBe('open');
    const ok = (): Promise<number> => Promise.resolve(0);
    await breakers.run('Endpoint/1', ok);
    await breakers.run('Endpoint/2', ok);
    // Using it makes it recent again, so Endpoint/1 goes first.
    await expect(breakers.run('Endpoint/old', ok)).rejects.toMatchObject({ code: 'circuit-open' });
    await breakers.run('Endpoint/3', ok);
    expect(breakers.size).toBe(3);
    expect(breakers.state('Endpoint/old')).toBe('open');
    await breakers.run('Endpoint/4', ok);
    await breakers.run('Endpoint/5', ok);
    expect(breakers.size).toBe(3);
    expect(breakers.state('Endpoint/old')).toBe('closed');
  });
});
