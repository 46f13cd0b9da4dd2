/**
 * Hospital feeds name the PCP's role too (ROL, PRT → PractitionerRole), for the same NPI a
 * practice registered. Through the real engine: the A01's roles are stored, and the admission
 * reaches the practice's registered role (its endpoint and its inbox) and no role the message made.
 */
import { describe, expect, it } from 'vitest';
import {
  example,
  registerPractice,
  settle,
  useNotifyHarness,
  waitForDelivery,
} from '../helpers/notify-harness';

const h = useNotifyHarness();

/** The PCP that mappings/tests/adt-a01-roles.hl7 names in its ROL with role PP (no PD1). */
const ROLE_PCP_NPI = '1745123061';

describe('PractitionerRoles from a hospital message', () => {
  it('are stored, and the admission notifies only the PCP’s registered role', async () => {
    const receiver = await h.receiver();
    const s = await h.setup();
    const practice = await registerPractice(s, `${receiver.url}/fhir`, { npi: ROLE_PCP_NPI });
    const messageId = await s.sendProcessed(example('adt-a01-roles', 'HR-1'));

    const mapped = await s.engine.db.query<{ id: string; resource: Record<string, unknown> }>(
      `SELECT id, resource FROM fhir_resources
        WHERE resource_type = 'PractitionerRole' AND resource->'meta'->>'source' = $1`,
      [`urn:care:message:${messageId}`],
    );
    // ROL PP, PRT AT, PRT RP and PRT PH.
    expect(mapped).toHaveLength(4);
    const pcpRole = mapped.find((r) => JSON.stringify(r.resource['code']).includes('"446050000"'));
    expect(pcpRole).toBeDefined();

    await waitForDelivery(s, {}, (d) => d.channel === 'inbox', 'inbox notice of the admission');
    await waitForDelivery(s, {}, (d) => d.channel === 'davinci', 'Da Vinci notice of the admission');
    expect((await s.settledOutbox(messageId)).map((r) => [r.kind, r.status])).toEqual([
      ['admit', 'notified'],
    ]);
    await settle(500);
    const notices = await s.deliveries();
    expect(notices.map((d) => [d.channel, d.target]).sort()).toEqual(
      [
        ['davinci', practice.endpoint],
        ['inbox', practice.role],
      ].sort(),
    );
    const hospitalInbox = await s.fhir(
      'GET',
      `/fhir/Communication?recipient=PractitionerRole/${pcpRole?.id ?? ''}`,
    );
    expect(hospitalInbox.status).toBe(200);
    expect((hospitalInbox.body['entry'] as unknown[] | undefined) ?? []).toHaveLength(0);
    const practiceInbox = await s.fhir('GET', `/fhir/Communication?recipient=${practice.role}`);
    expect((practiceInbox.body['entry'] as unknown[] | undefined) ?? []).toHaveLength(1);
  }, 30_000);
});
