/**
 * The analyst's message browser over HTTP on a real engine: messages sent over MLLP (and a few
 * archived directly) are found by every filter alone and combined, paged completely, and read
 * back labelled and decoded with their FHIR, the notices they caused, their errors with HL7
 * location and mapping rule, and the mapping version; failed messages group by cause.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { archiveMessage } from '../../engine/src/store/message-archive';
import {
  adt,
  demo,
  nextControlId,
  oru,
  PCP_NPI,
  registerPractice,
  useNotifyHarness,
  waitForDelivery,
  type NotifyEngine,
  type Practice,
} from '../helpers/notify-harness';
import { waitFor } from '../helpers/test-engine';

const h = useNotifyHarness('all');

interface Summary {
  id: string;
  sender: string;
  controlId: string | null;
  type: string | null;
  status: string;
  receivedAt: string;
  patientKey: string | null;
  patientName: string | null;
}

interface Issue {
  severity: string;
  code: string;
  diagnostics: string;
  expression?: string[];
  rule?: string;
}

interface Group {
  key: string;
  code: string;
  message: string;
  expression?: string[];
  rule?: string;
  count: number;
  senders: string[];
  firstAt: string;
  lastAt: string;
  sampleIds: string[];
}

let s: NotifyEngine;
let practice: Practice;
/** Archive ids by what the message is. */
const ids: Record<string, string> = {};

// PID-11.1 carries \F\ and \T\: the view shows `|` and `&`.
const maria = demo({
  mrn: 'MB-1',
  family: 'Jiménez',
  given: 'María',
  sex: 'F',
  phone: '5550801',
  street: '12 Oak\\F\\Lane \\T\\ Co',
});
// Another person (birth date, address): linking must not make María's PCP hear of his discharge.
const mario = demo({
  mrn: 'MB-2',
  family: 'Jimenez',
  given: 'Mario',
  dob: '19751103',
  street: '9 Elm Court',
  zip: '62704',
  phone: '5550802',
});
const john = demo({ mrn: 'MB-3', family: 'Smith', given: 'John', phone: '5550803', facility: 'STMARY' });
const ann = demo({ mrn: 'MB-4', family: 'Okafor', given: 'Ann', phone: '5550804' });
const bea = demo({ mrn: 'MB-5', family: 'Lindqvist', given: 'Bea', phone: '5550805' });

/** An ORU whose one result has no code (OBX-3.1): the observation rule cannot build its id. */
const uncodedResult = (p: typeof ann): string => oru(p, `ORD-${p.mrn}`, [{ code: '', value: '4.1' }]);

/** An ORU with a result before any order and no code: the patient-observation rule fails instead. */
const uncodedPatientResult = (p: typeof ann): string =>
  [
    `MSH|^~\\&|LAB|${p.facility}|CARE|CARE|20240506090000+0000||ORU^R01^ORU_R01|${nextControlId('NB')}|P|2.5.1`,
    `PID|1||${p.mrn}^^^${p.facility}^MR||${p.family}^${p.given}||${p.dob}|${p.sex}`,
    'OBX|1|NM|^LN||72|/min|||||F',
  ].join('\r');

async function sendAndSettle(text: string, status: string): Promise<string> {
  expect(await s.send(text)).toEqual(['AA']);
  const controlId = /^MSH(?:\|[^|\r]*){8}\|([^|\r]*)/.exec(text)?.[1];
  let id = '';
  await waitFor(
    async () => {
      const [row] = await s.engine.db.query<{ id: string; status: string }>(
        `SELECT id::text AS id, status FROM messages WHERE control_id = $1`,
        [controlId],
      );
      id = row?.id ?? '';
      return row !== undefined && row.status !== 'received';
    },
    20_000,
    `message ${controlId ?? '?'} finished`,
  );
  const [row] = await s.engine.db.query<{ status: string }>(`SELECT status FROM messages WHERE id = $1`, [
    id,
  ]);
  expect(row?.status).toBe(status);
  return id;
}

const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> =>
  s.api('GET', path);

async function list(query: string): Promise<Summary[]> {
  const reply = await get(`/api/messages?${query}`);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body['messages'] as Summary[];
}

const idsOf = async (query: string): Promise<string[]> => (await list(query)).map((m) => m.id).sort();
const sorted = (...names: string[]): string[] => names.map((n) => ids[n] ?? `missing ${n}`).sort();

beforeAll(async () => {
  const receiver = await h.receiver();
  s = await h.setup();
  practice = await registerPractice(s, `${receiver.url}/fhir`);
  ids['maria'] = await s.sendProcessed(adt(maria, { pcpNpi: PCP_NPI }));
  ids['mario'] = await s.sendProcessed(adt(mario, { event: 'A03' }));
  ids['john'] = await s.sendProcessed(adt(john));
  ids['annFailed'] = await sendAndSettle(uncodedResult(ann), 'failed');
  ids['beaFailed'] = await sendAndSettle(uncodedResult(bea), 'failed');
  ids['annOther'] = await sendAndSettle(uncodedPatientResult(ann), 'failed');
  // A row from before names were kept: found by MRN, never by name.
  const old = await archiveMessage(s.engine.db, {
    sender: 'EPIC^MERCY',
    sendingApplication: 'EPIC',
    sendingFacility: 'MERCY',
    controlId: nextControlId('OLD'),
    messageType: 'ADT',
    triggerEvent: 'A08',
    version: '2.5.1',
    patientKey: 'MERCY|MB-9',
    raw: Buffer.from('MSH|^~\\&|EPIC|MERCY|CARE|CARE|20240101||ADT^A08|OLD|P|2.5.1\rPID|1||MB-9||Old^Row'),
  });
  ids['old'] = old.id;
  await s.engine.db.query(
    `UPDATE messages SET status = 'ignored', received_at = '2024-01-10T00:00:00Z' WHERE id = $1`,
    [old.id],
  );
  await s.engine.db.query(`UPDATE messages SET received_at = '2024-02-10T00:00:00Z' WHERE id = $1`, [
    ids['john'],
  ]);
  await waitForDelivery(
    s,
    { endpoint: practice.endpoint },
    (d) => d.status === 'delivered',
    'admission notice',
  );
}, 120_000);

describe('GET /api/messages filters', () => {
  it('lists every message with its patient', async () => {
    const all = await list('');
    expect(all).toHaveLength(7);
    expect(all.find((m) => m.id === ids['maria'])).toMatchObject({
      sender: 'EPIC^MERCY',
      type: 'ADT^A01',
      status: 'processed',
      patientKey: 'MERCY|MB-1',
      patientName: 'Jiménez, María',
    });
    expect(all.find((m) => m.id === ids['old'])?.patientName).toBeNull();
  });

  it('filters by each field alone', async () => {
    expect(await idsOf('sender=STMARY')).toEqual(sorted('john'));
    expect(await idsOf('sender=EPIC^STMARY')).toEqual(sorted('john'));
    expect(await idsOf('sender=LAB^MERCY')).toEqual(sorted('annFailed', 'beaFailed', 'annOther'));
    expect(await idsOf('type=ADT^A03')).toEqual(sorted('mario'));
    expect(await idsOf('type=ORU')).toEqual(sorted('annFailed', 'beaFailed', 'annOther'));
    expect(await idsOf('status=failed')).toEqual(sorted('annFailed', 'beaFailed', 'annOther'));
    expect(await idsOf('status=ignored')).toEqual(sorted('old'));
    const controlId = (await list('')).find((m) => m.id === ids['mario'])?.controlId ?? '';
    expect(await idsOf(`controlId=${controlId}`)).toEqual(sorted('mario'));
    expect(await idsOf('patient=MB-1')).toEqual(sorted('maria'));
    expect(await idsOf('patient=MERCY|MB-4')).toEqual(sorted('annFailed', 'annOther'));
    expect(await idsOf('patient=STMARY|MB-4')).toEqual([]);
    expect(await idsOf('patient=MB-9')).toEqual(sorted('old'));
    expect(await idsOf('since=2024-02-01')).toEqual(
      sorted('maria', 'mario', 'john', 'annFailed', 'beaFailed', 'annOther'),
    );
    expect(await idsOf('until=2024-02-01T00:00:00Z')).toEqual(sorted('old'));
  });

  it('finds a patient by name prefix, whatever the case and accents', async () => {
    expect(await idsOf('name=JIMENEZ')).toEqual(sorted('maria', 'mario'));
    expect(await idsOf(`name=${encodeURIComponent('jiménez, mari')}`)).toEqual(sorted('maria', 'mario'));
    expect(await idsOf(`name=${encodeURIComponent('Jimenez, MARÍA')}`)).toEqual(sorted('maria'));
    expect(await idsOf('name=jim')).toEqual(sorted('maria', 'mario'));
    expect(await idsOf(`name=${encodeURIComponent('smith,')}`)).toEqual(sorted('john'));
    expect(await idsOf(`name=${encodeURIComponent('smit, j')}`)).toEqual([]);
    expect(await idsOf('name=old')).toEqual([]);
  });

  it('combines filters with AND', async () => {
    expect(await idsOf('name=jimenez&type=ADT^A01')).toEqual(sorted('maria'));
    expect(await idsOf('status=failed&patient=MB-5')).toEqual(sorted('beaFailed'));
    expect(await idsOf('sender=MERCY&status=processed&since=2024-02-01')).toEqual(sorted('maria', 'mario'));
    expect(await idsOf('since=2024-01-01&until=2024-03-01')).toEqual(sorted('old', 'john'));
    expect(await idsOf('name=smith&until=2024-02-01')).toEqual([]);
  });

  it('pages a result in parts that add up to it exactly', async () => {
    const all = (await list('')).map((m) => m.id);
    const seen: string[] = [];
    let link: string | undefined = '/api/messages?_count=2';
    let pages = 0;
    while (link !== undefined && pages < 10) {
      const reply = await get(link);
      seen.push(...(reply.body['messages'] as Summary[]).map((m) => m.id));
      link = reply.body['next'] as string | undefined;
      pages++;
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(all);
    const named = await get('/api/messages?name=jimenez&_count=1');
    const rest = await get(named.body['next'] as string);
    expect(
      [...(named.body['messages'] as Summary[]), ...(rest.body['messages'] as Summary[])].map((m) => m.id),
    ).toEqual([ids['mario'], ids['maria']]);
    expect(rest.body['next']).toBeUndefined();
  });

  it('refuses bad parameters with an OperationOutcome naming each', async () => {
    for (const [query, param] of [
      ['name=%2C%20jo', 'name'],
      ['name=', 'name'],
      ['errorKey=zzz', 'errorKey'],
      ['until=yesterday', 'until'],
      ['since=2024-03-01&until=2024-02-01', 'until'],
      ['surname=smith', 'surname'],
    ] as const) {
      const reply = await get(`/api/messages?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body['resourceType']).toBe('OperationOutcome');
      expect(JSON.stringify(reply.body), query).toContain(`${param}:`);
    }
  });

  it('audits a name search without the name or the MRN', async () => {
    await list('name=jimenez&patient=MB-1');
    const rows = await s.engine.db.query<{ query: string }>(
      `SELECT query FROM audit_events WHERE action = 'search' AND resource_type = 'Message' AND query LIKE '%name=%'`,
    );
    expect(rows.map((r) => r.query)).toContain('name=REDACTED&patient=REDACTED');
    expect(JSON.stringify(rows)).not.toMatch(/jimenez|MB-1/i);
  });
});

describe('GET /api/messages/{id}', () => {
  it('labels and decodes the segments of a message', async () => {
    const view = (await get(`/api/messages/${ids['maria']}`)).body;
    const segments = view['segments'] as { name: string; index: number; fields: Record<string, unknown>[] }[];
    expect(segments.map((seg) => seg.name)).toEqual(['MSH', 'EVN', 'PID', 'PD1', 'PV1']);
    const pid = segments[2];
    expect(pid?.index).toBe(3);
    const name = pid?.fields.find((f) => f['position'] === 'PID-5');
    expect(name).toMatchObject({
      label: 'Patient Name',
      value: 'Jiménez^María^Q',
      components: [
        { position: 'PID-5.1', label: 'Family Name', value: 'Jiménez' },
        { position: 'PID-5.2', label: 'Given Name', value: 'María' },
        { position: 'PID-5.3' },
      ],
    });
    const address = pid?.fields.find((f) => f['position'] === 'PID-11') as
      { components: { position: string; value: string }[] } | undefined;
    expect(address?.components[0]).toMatchObject({ position: 'PID-11.1', value: '12 Oak|Lane & Co' });
    expect(segments[0]?.fields[0]).toEqual({ position: 'MSH-1', label: 'Field Separator', value: '|' });
  });

  it('shows the FHIR, the notices it caused and the mapping version', async () => {
    const view = (await get(`/api/messages/${ids['maria']}`)).body;
    expect(view['type']).toBe('ADT^A01');
    expect(view['mappingVersion']).toEqual(expect.any(String));
    expect(view['mappingFile']).toMatch(/adt\.yaml$/);
    const fhir = view['fhir'] as { entry: { resource: { resourceType: string } }[] };
    expect(fhir.entry.map((e) => e.resource.resourceType)).toEqual(
      expect.arrayContaining(['Patient', 'Encounter']),
    );
    // The practice's endpoint and its inbox, both told of the admission.
    const delivered = { id: expect.any(String) as unknown, event: 'admit', status: 'delivered', attempts: 1 };
    expect(view['notifications']).toEqual(
      expect.arrayContaining([
        {
          ...delivered,
          channel: 'davinci',
          target: practice.endpoint,
          deliveredAt: expect.any(String) as unknown,
        },
        { ...delivered, channel: 'inbox', target: practice.role, deliveredAt: expect.any(String) as unknown },
      ]),
    );
    expect(view['notifications']).toHaveLength(2);
    expect(view['issues']).toEqual([]);
    expect((await get(`/api/messages/${ids['mario']}`)).body['notifications']).toEqual([]);
  });

  it('shows a failed message with its HL7 location, mapping rule and mapping', async () => {
    const view = (await get(`/api/messages/${ids['annFailed']}`)).body;
    expect(view['status']).toBe('failed');
    expect(view['issues'] as Issue[]).toEqual([
      {
        severity: 'error',
        code: 'missing-required',
        diagnostics: expect.stringMatching(/needs an id but a required id location is empty$/) as unknown,
        expression: ['OBX-3.1'],
        rule: expect.stringMatching(/rules\/observation\.yaml#observation\.id$/) as unknown,
      },
    ]);
    expect(view['mappingVersion']).toEqual(expect.any(String));
    expect(view['mappingFile']).toMatch(/oru-r01\.yaml$/);
    const other = (await get(`/api/messages/${ids['annOther']}`)).body['issues'] as Issue[];
    expect(other[0]?.rule).toMatch(/#patient-observation\.id$/);
  });

  it('shows a row archived before names were kept, still labelled', async () => {
    const old = (await get(`/api/messages/${ids['old']}`)).body;
    expect(old['issues']).toEqual([]);
    expect((old['segments'] as { name: string }[]).map((seg) => seg.name)).toEqual(['MSH', 'PID']);
  });
});

describe('GET /api/errors', () => {
  let groups: Group[];
  beforeAll(async () => {
    const reply = await get('/api/errors');
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    groups = reply.body['groups'] as Group[];
  });

  it('groups failures of one cause across patients, and another cause apart', () => {
    expect(groups.map((g) => g.count)).toEqual([2, 1]);
    const [same, other] = groups;
    expect(same).toMatchObject({
      code: 'missing-required',
      expression: ['OBX-3.1'],
      rule: expect.stringMatching(/#observation\.id$/) as unknown,
      senders: ['LAB^MERCY'],
      sampleIds: [ids['beaFailed'], ids['annFailed']],
    });
    expect(same?.message).toMatch(/needs an id/);
    expect(Date.parse(same?.firstAt ?? '')).toBeLessThanOrEqual(Date.parse(same?.lastAt ?? ''));
    expect(other).toMatchObject({ rule: expect.stringMatching(/#patient-observation\.id$/) as unknown });
    expect(other?.sampleIds).toEqual([ids['annOther']]);
    expect(same?.key).not.toBe(other?.key);
  });

  it("lists a group's messages by its key", async () => {
    expect(await idsOf(`errorKey=${groups[0]?.key ?? ''}`)).toEqual(sorted('annFailed', 'beaFailed'));
    expect(await idsOf(`errorKey=${groups[1]?.key ?? ''}&patient=MB-4`)).toEqual(sorted('annOther'));
  });

  it('filters by sender and time, refuses bad parameters, and needs Message search', async () => {
    expect(((await get('/api/errors?sender=STMARY')).body['groups'] as Group[]).length).toBe(0);
    expect(
      ((await get('/api/errors?sender=LAB^MERCY&since=2024-01-01')).body['groups'] as Group[]).length,
    ).toBe(2);
    expect(((await get('/api/errors?until=2024-01-01')).body['groups'] as Group[]).length).toBe(0);
    expect((await get('/api/errors?colour=red')).status).toBe(400);
    expect((await get('/api/errors?since=2024-02-01&until=2024-01-01')).status).toBe(400);
    const patientOnly = await s.client.token(s.base, 'system/Patient.rs');
    const denied = await fetch(`${s.base}/api/errors`, {
      headers: { authorization: `Bearer ${patientOnly}` },
    });
    expect(denied.status).toBe(403);
    const audit = await s.engine.db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM audit_events WHERE action = 'search' AND resource_type = 'Message'
          AND detail->>'view' = 'errors'`,
    );
    expect(Number(audit[0]?.n)).toBeGreaterThanOrEqual(3);
  });

  it('keeps a replayed message that fails again in its group, under the same key', async () => {
    const replay = await s.api('POST', `/api/messages/${ids['beaFailed']}/replay`);
    expect(replay.status).toBe(202);
    await waitFor(async () => {
      const [row] = await s.engine.db.query<{ process_count: number; status: string }>(
        `SELECT process_count, status FROM messages WHERE id = $1`,
        [ids['beaFailed']],
      );
      return row?.process_count === 2 && row.status === 'failed';
    });
    // Failed again for the same cause: back in the same group, under the same key.
    const again = (await get('/api/errors')).body['groups'] as Group[];
    expect(again.map((g) => [g.key, g.count])).toEqual(groups.map((g) => [g.key, g.count]));
  });
});
