/**
 * PCP notifications end to end: a practice registers over /fhir, a hospital's ADT names its PCP,
 * and the practice's endpoint receives the Da Vinci notification once; the delivery log says so.
 * Repeats (a resent message, an analyst's replay, a retry) never make a second notice, a webhook
 * is signed with a secret nobody can read back, and the practice inbox has the notice too.
 */
import { describe, expect, it } from 'vitest';
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from '../../engine/src/notify/webhook-signature';
import {
  adt,
  DAVINCI_EVENT_SYSTEM,
  demo,
  endpointResource,
  example,
  messageBundle,
  PCP_NPI,
  registerPractice,
  settle,
  useNotifyHarness,
  waitUntil,
  waitForDelivery,
  WEBHOOK_SECRET_EXTENSION,
} from '../helpers/notify-harness';
import { waitFor } from '../helpers/test-engine';

const h = useNotifyHarness();

describe('Da Vinci notifications to a registered practice', () => {
  it('delivers an admission to the PCP named in PD1-4, once, and logs it', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    expect(await s.send(example('adt-a01', 'N-1'))).toEqual(['AA']);
    await waitUntil(() => receiver.accepted().length === 1, 20_000, 'admission delivered');
    const got = receiver.accepted()[0];
    expect(got?.path).toBe('/fhir/$process-message');
    expect(got?.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const { bundle, header, find } = messageBundle(got);
    expect(bundle['type']).toBe('message');
    expect(header['resourceType']).toBe('MessageHeader');
    expect(header['eventCoding']).toMatchObject({ system: DAVINCI_EVENT_SYSTEM, code: 'notification-admit' });
    expect(header['destination']).toEqual([
      { endpoint: `${receiver.url}/fhir`, receiver: { reference: practice.organization } },
    ]);
    // The focus and its patient travel with the message: no second request needed.
    const encounter = find('Encounter');
    expect(header['focus']).toEqual([{ reference: `Encounter/${String(encounter?.['id'])}` }]);
    expect(find('Patient')?.['birthDate']).toBe('1980-02-14');
    const log = await s.deliveries({ endpoint: practice.endpoint });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      status: 'delivered',
      channel: 'davinci',
      attempts: 1,
      noticeId: header['id'],
      event: { kind: 'admit' },
      reasons: [{ source: 'message', practitioner: `npi:${PCP_NPI}` }],
    });
    expect(log[0]?.log).toMatchObject([{ attempt: 1, outcome: 'delivered', statusCode: 200 }]);
    // The inbox has the notice too, for the practice's users.
    const inbox = await s.fhir('GET', `/fhir/Communication?recipient=${practice.role}`);
    expect(inbox.status).toBe(200);
    expect((inbox.body['entry'] as unknown[] | undefined)?.length).toBe(1);
  }, 30_000);
});

describe('exactly once, as the receiver sees it', () => {
  it('a resent message, the same visit sent again and an analyst replay notify nothing new', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    await registerPractice(s, `${receiver.url}/fhir`);
    const p = demo({ mrn: 'EX-1', family: 'Abernathy', phone: '5550701' });
    const admit = adt(p, { pcpNpi: PCP_NPI, controlId: 'EX-A01-1' });
    const messageId = await s.sendProcessed(admit);
    await waitUntil(() => receiver.accepted().length === 1, 20_000, 'admission delivered');
    const before = await s.deliveries();
    // The same MSH-10 again: a duplicate, AA and not processed twice.
    expect(await s.send(admit)).toEqual(['AA']);
    // The hospital's interface resends the message under a new MSH-10: the store changes nothing.
    await s.sendProcessed(admit.replace('EX-A01-1', 'EX-A01-2'));
    // An analyst replays the original.
    const replay = await s.api('POST', `/api/messages/${messageId}/replay`);
    expect(replay.status, JSON.stringify(replay.body)).toBe(202);
    await waitFor(async () => {
      const [row] = await s.engine.db.query<{ process_count: number; status: string }>(
        `SELECT process_count, status FROM messages WHERE id = $1`,
        [messageId],
      );
      return row?.process_count === 2 && row.status === 'processed';
    });
    await settle(1_500);
    expect(receiver.requests).toHaveLength(1);
    expect(await s.outbox()).toHaveLength(1);
    expect((await s.deliveries()).map((d) => [d.id, d.status, d.attempts])).toEqual(
      before.map((d) => [d.id, d.status, d.attempts]),
    );
  }, 30_000);

  it('sends one notice id on every attempt: Bundle.id, Bundle.identifier and MessageHeader.id', async () => {
    const receiver = await h.receiver((n) => (n <= 2 ? { status: 503 } : { status: 200 }));
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await s.sendProcessed(
      adt(demo({ mrn: 'EX-2', family: 'Bellweather', phone: '5550702' }), { pcpNpi: PCP_NPI }),
    );
    const done = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.status === 'delivered',
      'delivered',
    );
    expect(receiver.requests).toHaveLength(3);
    const ids = receiver.requests.map((r) => {
      const m = messageBundle(r);
      return [
        m.bundle['id'],
        (m.bundle['identifier'] as { value?: string } | undefined)?.value,
        m.header['id'],
      ];
    });
    expect(ids).toEqual(Array(3).fill([done.noticeId, `urn:uuid:${done.noticeId}`, done.noticeId]));
    // The whole notice is the same, not just its id: the receiver may compare bodies.
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
  }, 30_000);
});

describe('webhook endpoints', () => {
  const secret = 'whsec_0123456789abcdef0123456789abcdef';

  it('signs the notice with the registered secret, which the stored Endpoint does not show', async () => {
    // The receiver refuses anything whose signature does not verify, as a real one would.
    const receiver = await h.receiver((_, notice) => {
      const signature = notice.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()];
      const ok =
        typeof signature === 'string' &&
        verifyWebhookSignature(secret, notice.body, signature, Math.floor(Date.now() / 1000));
      return { status: ok ? 204 : 401 };
    });
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/hooks/care`, { channel: 'webhook', secret });
    const stored = await s.fhir('GET', `/fhir/${practice.endpoint}`);
    expect(stored.status).toBe(200);
    expect(JSON.stringify(stored.body)).not.toContain(secret);
    expect(JSON.stringify(stored.body)).not.toContain(WEBHOOK_SECRET_EXTENSION);
    // Nor does its history or a search.
    const history = await s.fhir('GET', `/fhir/${practice.endpoint}/_history`);
    expect(JSON.stringify(history.body)).not.toContain(secret);
    const search = await s.fhir('GET', '/fhir/Endpoint');
    expect(JSON.stringify(search.body)).not.toContain(secret);

    await s.sendProcessed(
      adt(demo({ mrn: 'WH-1', family: 'Castellano', phone: '5550703' }), { pcpNpi: PCP_NPI }),
    );
    const done = await waitForDelivery(
      s,
      { endpoint: practice.endpoint },
      (d) => d.status !== 'pending',
      'webhook sent',
    );
    expect(done).toMatchObject({ status: 'delivered', channel: 'webhook', attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
    const got = receiver.requests[0];
    expect(got?.path).toBe('/hooks/care');
    expect(got?.headers['x-care-notice-id']).toBe(done.noticeId);
    expect(got?.json()).toMatchObject({
      id: done.noticeId,
      type: 'admit',
      correction: false,
      patient: done.patient,
      reasons: [{ source: 'message', practitioner: `npi:${PCP_NPI}` }],
    });
    // Another secret does not verify it, and neither does the same body changed by one byte.
    const header = String(got?.headers['x-care-signature']);
    const now = Math.floor(Date.now() / 1000);
    expect(verifyWebhookSignature(`${secret}x`, got?.body ?? '', header, now)).toBe(false);
    expect(verifyWebhookSignature(secret, `${got?.body ?? ''} `, header, now)).toBe(false);
  }, 30_000);

  it('refuses a webhook Endpoint without a secret, or with a short one, with 422', async () => {
    const s = await h.setup();
    const address = 'http://127.0.0.1:9/hook';
    for (const body of [
      endpointResource(address, { channel: 'webhook' }),
      endpointResource(address, { channel: 'webhook', secret: 'too-short' }),
    ]) {
      const reply = await s.fhir('POST', '/fhir/Endpoint', body);
      expect(reply.status, JSON.stringify(reply.body)).toBe(422);
      expect(reply.body['resourceType']).toBe('OperationOutcome');
    }
    const search = await s.fhir('GET', '/fhir/Endpoint');
    expect(search.body['total'] ?? (search.body['entry'] as unknown[] | undefined)?.length ?? 0).toBe(0);
  }, 30_000);
});

describe('the practice inbox', () => {
  it('lists the notice as a Communication for the role, and marks it read and unread', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`);
    await s.sendProcessed(
      adt(demo({ mrn: 'IN-1', family: 'Delacroix', phone: '5550704' }), { pcpNpi: PCP_NPI }),
    );
    const inboxNotice = await waitForDelivery(
      s,
      { endpoint: practice.role },
      (d) => d.channel === 'inbox',
      'inbox notice',
    );
    expect(inboxNotice).toMatchObject({ status: 'delivered', target: practice.role });
    const inbox = await s.fhir('GET', `/fhir/Communication?recipient=${practice.role}`);
    expect(inbox.status).toBe(200);
    const entries = (inbox.body['entry'] as { resource: Record<string, unknown> }[] | undefined) ?? [];
    expect(entries).toHaveLength(1);
    const communication = entries[0]?.resource ?? {};
    const id = String(communication['id']);
    expect(communication).toMatchObject({
      resourceType: 'Communication',
      subject: { reference: inboxNotice.patient },
    });
    expect(communication['recipient']).toContainEqual({ reference: practice.role });
    expect(communication['received']).toBeUndefined();
    // No other role's inbox shows it.
    const other = await s.fhir('GET', '/fhir/Communication?recipient=PractitionerRole/nobody');
    expect((other.body['entry'] as unknown[] | undefined) ?? []).toHaveLength(0);

    const read = await s.api('POST', `/api/inbox/${id}/read`);
    expect(read).toEqual({ status: 200, body: { id, state: 'read', changed: true } });
    const afterRead = await s.fhir('GET', `/fhir/Communication/${id}`);
    expect(typeof afterRead.body['received']).toBe('string');
    expect(Date.now() - Date.parse(String(afterRead.body['received']))).toBeLessThan(60_000);
    // Marking it read again changes nothing.
    expect((await s.api('POST', `/api/inbox/${id}/read`)).body).toMatchObject({ changed: false });
    expect((await s.api('POST', `/api/inbox/${id}/unread`)).body).toMatchObject({
      state: 'unread',
      changed: true,
    });
    expect((await s.fhir('GET', `/fhir/Communication/${id}`)).body['received']).toBeUndefined();
    expect((await s.api('POST', '/api/inbox/no-such-communication/read')).status).toBe(404);
  }, 30_000);
});
