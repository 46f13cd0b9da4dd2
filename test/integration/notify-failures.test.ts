/**
 * Delivery when receivers misbehave, with real loopback servers: a 503 is retried until it
 * passes, a hang is cut by the timeout and retried, a 401 is dead-lettered at once and only an
 * analyst's retry sends it again, a 429 waits as long as Retry-After says, and a receiver that is
 * down gets its notice once it is back. Endpoint addresses inside the network are refused.
 */
import { describe, expect, it } from 'vitest';
import { failFirst } from '../helpers/notice-receiver';
import {
  adt,
  demo,
  endpointResource,
  PCP_NPI,
  registerPractice,
  settle,
  useNotifyHarness,
  waitForDelivery,
  type DeliveryView,
  type NotifyEngine,
  type Practice,
} from '../helpers/notify-harness';
import { waitFor } from '../helpers/test-engine';

const h = useNotifyHarness();

let mrn = 0;
/** Admits a patient of its own whose PD1-4 names the PCP. */
async function admit(s: NotifyEngine): Promise<void> {
  mrn++;
  await s.sendProcessed(
    adt(
      demo({
        mrn: `FL-${mrn}`,
        family: `Failwell${'x'.repeat(mrn)}`,
        phone: `55508${String(mrn).padStart(2, '0')}`,
      }),
      {
        pcpNpi: PCP_NPI,
      },
    ),
  );
}

const davinciOf = (s: NotifyEngine, practice: Practice): Promise<DeliveryView> =>
  waitForDelivery(s, { endpoint: practice.endpoint }, () => true, 'the Da Vinci notice');

describe('receivers that fail', () => {
  it('a receiver answering 503 three times gets the notice once, on the fourth attempt', async () => {
    const receiver = await h.receiver(failFirst(3, 503));
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await admit(s);
    const done = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.status === 'delivered',
      'delivered',
    );
    await settle(500);
    expect(receiver.statuses).toEqual([503, 503, 503, 200]);
    expect(receiver.accepted()).toHaveLength(1);
    expect(done.attempts).toBe(4);
    expect(done.log.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, 'retry', 503],
      [2, 'retry', 503],
      [3, 'retry', 503],
      [4, 'delivered', 200],
    ]);
    expect(done.log[0]?.error).toMatch(/503/);
    // Backoff: the attempts are spread out, not fired back to back.
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - (receiver.requests[i]?.at ?? 0));
    expect(gaps.every((g) => g >= 40)).toBe(true);
  }, 30_000);

  it('a receiver that hangs past NOTIFY_TIMEOUT_MS is retried, and delivered once it answers', async () => {
    const receiver = await h.receiver((n) => (n <= 2 ? 'hang' : { status: 200 }));
    const s = await h.setup({ env: { NOTIFY_TIMEOUT_MS: '500' } });
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await admit(s);
    const done = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.status === 'delivered',
      'delivered',
    );
    await settle(500);
    expect(receiver.statuses).toEqual([0, 0, 200]);
    expect(receiver.accepted()).toHaveLength(1);
    expect(done.attempts).toBe(3);
    expect(done.log.map((a) => [a.outcome, a.statusCode])).toEqual([
      ['retry', null],
      ['retry', null],
      ['delivered', 200],
    ]);
    for (const a of done.log.slice(0, 2)) expect(a.error).toMatch(/within 500 ms/);
    // Each hung attempt was given up after about the timeout, not left to hold a worker.
    const gap = (receiver.requests[1]?.at ?? 0) - (receiver.requests[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(500);
    expect(gap).toBeLessThan(5_000);
  }, 30_000);

  it('a 401 is dead-lettered after one request; an analyst retry after the fix delivers it', async () => {
    const receiver = await h.receiver(() => ({ status: 401 }));
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await admit(s);
    const failed = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.status === 'failed',
      'dead-letter',
    );
    await settle(1_500);
    expect(receiver.requests).toHaveLength(1);
    expect(failed).toMatchObject({ attempts: 1, lastStatusCode: 401 });
    expect(failed.lastError).toMatch(/401/);
    expect(failed.log).toMatchObject([{ attempt: 1, outcome: 'failed', statusCode: 401 }]);
    expect((await s.deliveries({ status: 'failed' })).map((d) => d.id)).toEqual([failed.id]);
    expect((await s.delivery(failed.id)).status).toBe('failed');

    // The practice fixes its credentials; the analyst sends the notice again.
    receiver.setScript(() => ({ status: 200 }));
    const retry = await s.api('POST', `/api/deliveries/${failed.id}/retry`);
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    expect(retry.body).toMatchObject({ id: failed.id, status: 'pending', round: 1 });
    await waitFor(
      async () => (await s.delivery(failed.id)).status === 'delivered',
      20_000,
      'retried delivery',
    );
    await settle(500);
    expect(receiver.statuses).toEqual([401, 200]);
    const done = await s.delivery(failed.id);
    expect(done.log.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, 'failed', 401],
      [2, 'delivered', 200],
    ]);
    // The same notice, not a new one.
    expect(receiver.requests[1]?.body).toBe(receiver.requests[0]?.body);

    // A delivered notice is not sent again, nor is an inbox entry; an unknown one is 404.
    const again = await s.api('POST', `/api/deliveries/${failed.id}/retry`);
    expect([again.status, again.body['resourceType']]).toEqual([409, 'OperationOutcome']);
    const inbox = (await s.deliveries({ endpoint: practice.role }))[0];
    expect((await s.api('POST', `/api/deliveries/${inbox?.id ?? ''}/retry`)).status).toBe(409);
    expect((await s.api('POST', '/api/deliveries/999999999/retry')).status).toBe(404);
    await settle(500);
    expect(receiver.requests).toHaveLength(2);
  }, 30_000);

  it('a 429 with Retry-After: 1 is sent again no sooner than a second later', async () => {
    const receiver = await h.receiver(failFirst(1, 429, { 'Retry-After': '1' }));
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await admit(s);
    const done = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.status === 'delivered',
      'delivered',
    );
    expect(receiver.statuses).toEqual([429, 200]);
    const gap = (receiver.requests[1]?.at ?? 0) - (receiver.requests[0]?.at ?? 0);
    // Well above NOTIFY_RETRY_BASE_MS (100 ms): the receiver's wait, not the backoff.
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(5_000);
    expect(done.log.map((a) => [a.outcome, a.statusCode])).toEqual([
      ['retry', 429],
      ['delivered', 200],
    ]);
  }, 30_000);

  it('a receiver that is down gets the notice once when it is back, the breaker letting a probe through', async () => {
    const receiver = await h.receiver();
    await receiver.stop();
    const s = await h.setup({
      env: { NOTIFY_BREAKER_FAILURES: '3', NOTIFY_BREAKER_HALF_OPEN_MS: '1000', NOTIFY_MAX_ATTEMPTS: '40' },
    });
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await admit(s);
    // Connections refused until the breaker opens: later attempts do not even try the receiver.
    const open = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.log.some((a) => /circuit open/.test(a.error ?? '')),
      'breaker open',
    );
    expect(open.status).toBe('retrying');
    expect(open.log.slice(0, 3).map((a) => [a.outcome, a.statusCode])).toEqual(
      Array(3).fill(['retry', null]),
    );
    expect(open.log[0]?.error).toMatch(/ECONNREFUSED|failed/);
    await receiver.start();
    const done = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.status === 'delivered',
      'delivered',
      20_000,
    );
    await settle(1_000);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.accepted()).toHaveLength(1);
    expect(done.log.at(-1)).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(done.log.filter((a) => a.outcome === 'delivered')).toHaveLength(1);
  }, 30_000);

  it('gives up after NOTIFY_MAX_ATTEMPTS transient failures and says so', async () => {
    const receiver = await h.receiver(() => ({ status: 500 }));
    const s = await h.setup({ env: { NOTIFY_MAX_ATTEMPTS: '3', NOTIFY_BREAKER_FAILURES: '10' } });
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await admit(s);
    const failed = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.status === 'failed',
      'gave up',
    );
    await settle(1_000);
    expect(receiver.statuses).toEqual([500, 500, 500]);
    expect(failed.attempts).toBe(3);
    expect(failed.lastError).toMatch(/gave up after 3 attempts/);
    expect(failed.log.map((a) => a.outcome)).toEqual(['retry', 'retry', 'failed']);
  }, 30_000);

  it('keeps one broken endpoint from holding up another practice', async () => {
    const broken = await h.receiver(() => 'hang');
    const healthy = await h.receiver();
    const s = await h.setup({ env: { NOTIFY_TIMEOUT_MS: '10000' } });
    const slow = await registerPractice(s, `${broken.url}/fhir`);
    const fast = await registerPractice(s, `${healthy.url}/fhir`);
    const started = Date.now();
    await admit(s);
    await waitForDelivery(
      s,
      { endpoint: fast.endpoint },
      (d) => d.status === 'delivered',
      'healthy delivered',
    );
    // Well before the hung request times out.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(healthy.accepted()).toHaveLength(1);
    expect((await davinciOf(s, slow)).status).not.toBe('delivered');
  }, 30_000);
});

describe('SSRF: where an Endpoint may point', () => {
  const issuesOf = (body: Record<string, unknown>): { code: string; expression?: string[] }[] =>
    (body['issue'] as { code: string; expression?: string[] }[] | undefined) ?? [];

  async function endpointCount(s: NotifyEngine): Promise<number> {
    const [row] = await s.engine.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM fhir_resources WHERE resource_type = 'Endpoint'`,
    );
    return row?.n ?? -1;
  }

  it('refuses private, link-local and metadata addresses with 422, storing nothing', async () => {
    const s = await h.setup();
    for (const address of [
      'http://10.0.0.1/fhir',
      'http://169.254.169.254/latest',
      'http://[::ffff:169.254.169.254]/latest',
      'http://192.168.1.20/fhir',
      'http://0.0.0.0:8080/fhir',
    ]) {
      const reply = await s.fhir('POST', '/fhir/Endpoint', endpointResource(address));
      expect(reply.status, `${address}: ${JSON.stringify(reply.body)}`).toBe(422);
      expect(reply.body['resourceType']).toBe('OperationOutcome');
      expect(issuesOf(reply.body)).toContainEqual(
        expect.objectContaining({ expression: ['Endpoint.address'] }),
      );
    }
    expect(await endpointCount(s)).toBe(0);
    // An update to such an address is refused too, and the old address stays.
    const ok = await s.fhir('POST', '/fhir/Endpoint', endpointResource('http://127.0.0.1:9/fhir'));
    expect(ok.status).toBe(201);
    const id = String(ok.body['id']);
    const moved = await s.fhir('PUT', `/fhir/Endpoint/${id}`, {
      ...endpointResource('http://169.254.169.254/latest'),
      id,
    });
    expect(moved.status).toBe(422);
    expect((await s.fhir('GET', `/fhir/Endpoint/${id}`)).body['address']).toBe('http://127.0.0.1:9/fhir');
    // A Subscription's channel is held to the same rule.
    const sub = await s.fhir('POST', '/fhir/Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'ssrf',
      criteria: 'https://care-coordination.org/fhir/SubscriptionTopic/encounter-start',
      channel: {
        type: 'rest-hook',
        endpoint: 'http://169.254.169.254/latest',
        payload: 'application/fhir+json',
      },
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(422);
  }, 30_000);

  it('without ENDPOINT_ALLOWED_HOSTS refuses loopback at registration, and at connect time', async () => {
    const receiver = await h.receiver();
    // Registered while loopback is allowed...
    const first = await h.setup();
    await registerPractice(first, `${receiver.url}/fhir`);
    await h.stopKeepingData(first);
    // ...and delivered after a restart that no longer allows it.
    const s = await h.setup({
      env: { ENDPOINT_ALLOWED_HOSTS: '' },
      reuse: { schema: first.engine.schema, prefix: first.engine.prefix },
    });
    for (const address of [
      `${receiver.url}/fhir`,
      `http://localhost:${receiver.port}/fhir`,
      'http://[::1]/fhir',
    ]) {
      const reply = await s.fhir('POST', '/fhir/Endpoint', endpointResource(address));
      expect(reply.status, `${address}: ${JSON.stringify(reply.body)}`).toBe(422);
    }
    expect(await endpointCount(s)).toBe(1);
    await admit(s);
    const refused = await waitForDelivery(
      s,
      {},
      (d) => d.channel === 'davinci' && d.status !== 'pending',
      'attempted',
    );
    // A refused address is permanent: no retry can make it allowed.
    expect(refused).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
    expect(refused.lastError).toMatch(/not public|ENDPOINT_ALLOWED_HOSTS/);
    await settle(500);
    expect(receiver.requests).toHaveLength(0);
  }, 30_000);
});
