/**
 * Registration writes over /fhir against a real engine (PostgreSQL, Redis, MLLP, signed system
 * tokens): create, update-as-create, If-Match, delete, R4 validation, scopes, hospital data kept
 * read-only, audit rows, versions naming their API source, the new search parameters, and the
 * RegistrationHooks other modules plug in (on an app built with createHttpApp over the engine's
 * own database and auth, so the hooks are the test's).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../engine/src/http/create-app';
import type {
  RegistrationCommit,
  RegistrationHooks,
  RegistrationWrite,
} from '../../engine/src/http/registration-hooks';
import { createLogger } from '../../engine/src/observability/logger';
import { applyBundle } from '../../engine/src/store/fhir-resource-store';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient, type SystemClient } from '../helpers/system-client';
import { TEST_REDIS_URL } from '../helpers/test-db';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';
import { transaction } from './fhir-fixtures';

const WRITE_SCOPE =
  'system/*.rs system/Organization.cud system/Endpoint.cud system/Practitioner.cud ' +
  'system/PractitionerRole.cud system/Group.cud system/Subscription.cud';
const NPI = 'http://hl7.org/fhir/sid/us-npi';
/** PD1-4 of mappings/tests/adt-a01.hl7: the hospital's PCP. */
const HOSPITAL_NPI = '1234567893';

type Json = Record<string, unknown>;

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json;
}

let engine: TestEngine;
let server: Server;
let producer: Redis;
let base: string;
let publicUrl: string;
let writer: SystemClient;
let wildcard: SystemClient;
const token: Record<'write' | 'read' | 'v1' | 'wildcard' | 'updateOnly' | 'patient', string> = {
  write: '',
  read: '',
  v1: '',
  wildcard: '',
  updateOnly: '',
  patient: '',
};

const calls: RegistrationWrite[] = [];
const commits: RegistrationCommit[] = [];
/** The test's rules: they act on Organizations named for them and let everything else through. */
const hooks: RegistrationHooks = {
  async beforeWrite(tx, w) {
    calls.push(w);
    if (w.body?.['name'] === 'Refused by hook') {
      // Written in the transaction, so it must vanish with the refused write.
      await tx.query(
        `INSERT INTO audit_events (client_id, action, resource_type, outcome) VALUES ('hook-probe', 'operation', 'Organization', 'success')`,
      );
      return { issues: [{ expression: 'Organization.name', message: 'this name is taken' }] };
    }
    if (w.body?.['name'] === 'Renamed by hook') {
      return { body: { ...w.body, name: 'Renamed', alias: ['by hook'] } };
    }
    return {};
  },
  afterCommit(w) {
    commits.push(w);
  },
};

function mergedClientsFile(...clients: SystemClient[]): string {
  const all = clients.flatMap((c) => JSON.parse(readFileSync(c.clientsFile, 'utf8')) as unknown[]);
  const file = join(mkdtempSync(join(tmpdir(), 'care-clients-')), 'clients.json');
  writeFileSync(file, JSON.stringify(all));
  return file;
}

beforeAll(async () => {
  writer = await createSystemClient(WRITE_SCOPE);
  wildcard = await createSystemClient('system/*.cruds');
  engine = await startTestEngine({
    env: {
      SMART_CLIENTS_FILE: mergedClientsFile(writer, wildcard),
      ENDPOINT_ALLOWED_HOSTS: 'practice.example',
    },
  });
  publicUrl = engine.config.http.publicUrl;
  token.write = await writer.token(publicUrl, WRITE_SCOPE);
  token.read = await writer.token(publicUrl, 'system/*.rs');
  token.v1 = await writer.token(publicUrl, 'system/*.rs system/Organization.write');
  token.wildcard = await wildcard.token(publicUrl, 'system/*.rs system/*.cud');
  token.updateOnly = await writer.token(publicUrl, 'system/*.rs system/Organization.u');
  token.patient = (
    await engine.auth.tokenService.issue({ clientId: 'ehr-app', scopes: ['patient/*.cruds'], patient: 'p1' })
  ).access_token;
  producer = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const app = createHttpApp({
    config: engine.config,
    db: engine.db,
    queue: engine.queue,
    deliverQueue: engine.deliverQueue,
    replayQueue: engine.replayQueue,
    queues: engine.queues,
    producer,
    metrics: engine.metrics,
    auth: engine.auth,
    logger: createLogger('silent'),
    registration: hooks,
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  producer.disconnect();
  await engine.destroy();
});

async function call(
  method: string,
  path: string,
  bearer: string,
  body?: unknown,
  headers: Record<string, string> = {},
  root = base,
): Promise<Reply> {
  const res = await fetch(`${root}/fhir/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Json) };
}

const post = (
  type: string,
  body: unknown,
  bearer = token.write,
  headers?: Record<string, string>,
): Promise<Reply> => call('POST', type, bearer, body, headers);
const put = (
  path: string,
  body: unknown,
  bearer = token.write,
  headers?: Record<string, string>,
): Promise<Reply> => call('PUT', path, bearer, body, headers);
const del = (path: string, bearer = token.write, headers?: Record<string, string>): Promise<Reply> =>
  call('DELETE', path, bearer, undefined, headers);
const get = (path: string, bearer = token.read): Promise<Reply> => call('GET', path, bearer);

function issues(reply: Reply): { code: string; expression?: string[]; diagnostics?: string }[] {
  expect(reply.body['resourceType']).toBe('OperationOutcome');
  return reply.body['issue'] as { code: string; expression?: string[] }[];
}

const expressions = (reply: Reply): string[] => issues(reply).flatMap((i) => i.expression ?? []);

function matches(bundle: Reply): string[] {
  expect(bundle.status).toBe(200);
  return ((bundle.body['entry'] as { resource: Json }[] | undefined) ?? []).map(
    (e) => `${String(e.resource['resourceType'])}/${String(e.resource['id'])}`,
  );
}

const organization = (name: string, extra: Json = {}): Json => ({
  resourceType: 'Organization',
  identifier: [{ system: NPI, value: '1999999984' }],
  name,
  active: true,
  ...extra,
});

const endpoint = (organizationId: string, extra: Json = {}): Json => ({
  resourceType: 'Endpoint',
  status: 'active',
  connectionType: {
    system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
    code: 'hl7-fhir-rest',
  },
  payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/endpoint-payload-type', code: 'any' }] }],
  address: 'https://practice.example/fhir',
  managingOrganization: { reference: `Organization/${organizationId}` },
  ...extra,
});

/** A valid body of each registration type, and an edit that changes it. */
const REGISTRATIONS: readonly { type: string; body: Json; edit: Json }[] = [
  {
    type: 'Organization',
    body: organization('Oak Street Family Practice'),
    edit: { name: 'Oak Street Practice' },
  },
  { type: 'Endpoint', body: endpoint('org-x'), edit: { status: 'off' } },
  {
    type: 'Practitioner',
    body: {
      resourceType: 'Practitioner',
      identifier: [{ system: NPI, value: '1111111112' }],
      name: [{ family: 'Kildare' }],
    },
    edit: { active: false },
  },
  {
    type: 'PractitionerRole',
    body: {
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { identifier: { system: NPI, value: '1111111112' } },
    },
    edit: { active: false },
  },
  {
    type: 'Group',
    body: {
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: 'Patient/p9' } }],
    },
    edit: { name: 'Roster' },
  },
  {
    type: 'Subscription',
    body: {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'admissions',
      criteria: 'Encounter?patient=Patient/p9',
      channel: {
        type: 'rest-hook',
        endpoint: 'https://practice.example/hook',
        payload: 'application/fhir+json',
      },
    },
    edit: { reason: 'admissions and discharges' },
  },
];

describe('create, read, update and delete', () => {
  it.each(REGISTRATIONS)(
    '$type: server id on POST, versions through PUT, 410 after DELETE',
    async ({ type, body, edit }) => {
      const created = await post(type, body);
      expect(created.status).toBe(201);
      const id = String(created.body['id']);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.headers.get('location')).toBe(`${publicUrl}/fhir/${type}/${id}/_history/1`);
      expect(created.headers.get('etag')).toBe('W/"1"');
      expect(created.body).toMatchObject({
        ...body,
        id,
        meta: { versionId: '1', source: `urn:care:api:${writer.clientId}` },
      });

      const read = await get(`${type}/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);

      const updated = await put(`${type}/${id}`, { ...body, ...edit, id });
      expect(updated.status).toBe(200);
      expect(updated.headers.get('etag')).toBe('W/"2"');
      expect(updated.body).toMatchObject({ ...edit, meta: { versionId: '2' } });

      const deleted = await del(`${type}/${id}`);
      expect(deleted.status).toBe(204);
      expect(deleted.headers.get('etag')).toBe('W/"3"');
      expect((await get(`${type}/${id}`)).status).toBe(410);
      expect(matches(await get(`${type}?_id=${id}`))).toEqual([]);

      const history = await get(`${type}/${id}/_history`);
      const entries = history.body['entry'] as { request: { method: string }; resource?: Json }[];
      expect(entries.map((e) => e.request.method)).toEqual(['DELETE', 'PUT', 'PUT']);
      const rows = await engine.db.query<{ version_id: number; message_id: string; source: string }>(
        `SELECT version_id, message_id, resource->'meta'->>'source' AS source FROM fhir_resource_history
        WHERE resource_type = $1 AND id = $2 ORDER BY version_id`,
        [type, id],
      );
      expect(rows.map((r) => r.version_id)).toEqual([1, 2, 3]);
      for (const r of rows) {
        expect(r.message_id).toMatch(/^api:[0-9a-f-]{36}$/);
        expect(r.source).toBe(`urn:care:api:${writer.clientId}`);
      }
    },
  );

  it('ignores an id sent with a create', async () => {
    const created = await post('Organization', { ...organization('Chosen id'), id: 'my-own-id' });
    expect(created.status).toBe(201);
    expect(created.body['id']).not.toBe('my-own-id');
  });

  it('creates with the caller id on PUT of an absent resource (update-as-create), then updates it', async () => {
    const first = await put('Organization/oak-street', { ...organization('Oak'), id: 'oak-street' });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe(`${publicUrl}/fhir/Organization/oak-street/_history/1`);
    const second = await put('Organization/oak-street', { ...organization('Oak Street'), id: 'oak-street' });
    expect([second.status, second.body['name']]).toEqual([200, 'Oak Street']);
    // A re-create after a delete is a create again.
    expect((await del('Organization/oak-street')).status).toBe(204);
    const again = await put('Organization/oak-street', { ...organization('Oak'), id: 'oak-street' });
    expect(again.status).toBe(201);
    expect(again.headers.get('location')).toBe(`${publicUrl}/fhir/Organization/oak-street/_history/4`);
  });

  it('honours If-Match: a stale version is 412, the current one is written', async () => {
    await put('Organization/if-match', { ...organization('v1'), id: 'if-match' });
    await put('Organization/if-match', { ...organization('v2'), id: 'if-match' });
    const stale = await put('Organization/if-match', { ...organization('v3'), id: 'if-match' }, token.write, {
      'if-match': 'W/"1"',
    });
    expect(stale.status).toBe(412);
    expect(issues(stale)[0]?.code).toBe('conflict');
    const current = await put(
      'Organization/if-match',
      { ...organization('v3'), id: 'if-match' },
      token.write,
      {
        'if-match': 'W/"2"',
      },
    );
    expect([current.status, current.headers.get('etag')]).toEqual([200, 'W/"3"']);
    expect((await del('Organization/if-match', token.write, { 'if-match': 'W/"2"' })).status).toBe(412);
    expect(
      (
        await put('Organization/if-match-new', { ...organization('x'), id: 'if-match-new' }, token.write, {
          'if-match': 'W/"1"',
        })
      ).status,
    ).toBe(412);
    expect(
      (
        await put('Organization/if-match', { ...organization('v3'), id: 'if-match' }, token.write, {
          'if-match': 'soon',
        })
      ).status,
    ).toBe(400);
  });

  it('makes no version for an update that changes nothing', async () => {
    await put('Organization/same', { ...organization('Same'), id: 'same' });
    const again = await put('Organization/same', { ...organization('Same'), id: 'same' });
    expect([again.status, again.headers.get('etag')]).toEqual([200, 'W/"1"']);
  });

  it('answers 404 for a delete of nothing, and 204 again for a deleted resource', async () => {
    expect((await del('Organization/never-was')).status).toBe(404);
    const created = await post('Organization', organization('Twice deleted'));
    const id = String(created.body['id']);
    expect((await del(`Organization/${id}`)).status).toBe(204);
    const again = await del(`Organization/${id}`);
    expect([again.status, again.headers.get('etag')]).toEqual([204, 'W/"2"']);
  });

  it('answers nothing but headers with Prefer: return=minimal', async () => {
    const created = await post('Organization', organization('Minimal'), token.write, {
      prefer: 'return=minimal',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({});
    expect(created.headers.get('location')).toMatch(/\/_history\/1$/);
  });
});

describe('requests the API refuses', () => {
  it('400: a body of another type, an id unlike the path, JSON that is not JSON, a bad id', async () => {
    const wrongType = await post('Organization', endpoint('x'));
    expect([wrongType.status, expressions(wrongType)]).toEqual([400, ['resourceType']]);
    const wrongId = await put('Organization/one', { ...organization('x'), id: 'two' });
    expect([wrongId.status, expressions(wrongId)]).toEqual([400, ['Organization.id']]);
    const noId = await put('Organization/one', organization('x'));
    expect(noId.status).toBe(400);
    const garbled = await post('Organization', '{"resourceType": "Organization",');
    expect([garbled.status, issues(garbled)[0]?.code]).toEqual([400, 'structure']);
    const array = await post('Organization', '[]');
    expect(array.status).toBe(400);
    const badId = await put('Organization/a%20b', { ...organization('x'), id: 'a b' });
    expect(badId.status).toBe(400);
  });

  it('415 for a body that is not JSON', async () => {
    const reply = await call('POST', 'Organization', token.write, 'name=x', { 'content-type': 'text/plain' });
    expect(reply.status).toBe(415);
    expect(issues(reply)[0]?.code).toBe('not-supported');
  });

  it('405 for types that are not registration types, 404 for types that do not exist', async () => {
    const patient = await post('Patient', { resourceType: 'Patient' }, token.wildcard);
    expect([patient.status, issues(patient)[0]?.code]).toEqual([405, 'not-supported']);
    expect((await put('Encounter/e1', { resourceType: 'Encounter', id: 'e1' }, token.wildcard)).status).toBe(
      405,
    );
    expect((await del('Communication/c1', token.wildcard)).status).toBe(405);
    expect((await post('Spaceship', { resourceType: 'Spaceship' }, token.wildcard)).status).toBe(404);
    expect((await call('PATCH', 'Organization/x', token.write, '[]')).status).toBe(405);
  });

  it('422 for what R4 does not allow, each problem located by FHIRPath', async () => {
    const unknown = await post('Organization', organization('x', { colour: 'blue' }));
    expect([unknown.status, expressions(unknown), issues(unknown)[0]?.code]).toEqual([
      422,
      ['Organization.colour'],
      'structure',
    ]);
    const wrongType = await post(
      'Organization',
      organization('x', { active: 'yes', telecom: [{ rank: '1' }] }),
    );
    expect([wrongType.status, expressions(wrongType).sort()]).toEqual([
      422,
      ['Organization.active', 'Organization.telecom[0].rank'],
    ]);
    const { address: _a, ...noAddress } = endpoint('x');
    const missing = await post('Endpoint', { ...noAddress, status: 'on' });
    expect([missing.status, expressions(missing).sort()]).toEqual([
      422,
      ['Endpoint.address', 'Endpoint.status'],
    ]);
    expect(
      issues(missing)
        .map((i) => i.code)
        .sort(),
    ).toEqual(['code-invalid', 'required']);
    const reference = await post('PractitionerRole', {
      resourceType: 'PractitionerRole',
      practitioner: { reference: 'https://elsewhere.example/Practitioner/1' },
    });
    expect([reference.status, expressions(reference)]).toEqual([
      422,
      ['PractitionerRole.practitioner.reference'],
    ]);
    const group = await post('Group', { resourceType: 'Group', type: 'person' });
    expect([group.status, expressions(group)]).toEqual([422, ['Group.actual']]);
  });

  it('403 without the write scope: read-only and system/*.rs tokens, audited as denied', async () => {
    const [mark] = await engine.db.query<{ id: string }>(
      `SELECT COALESCE(max(id), 0)::text AS id FROM audit_events`,
    );
    const reply = await post('Organization', organization('Not allowed'), token.read);
    expect([reply.status, issues(reply)[0]?.code]).toEqual([403, 'forbidden']);
    expect((await put('Organization/x', { ...organization('x'), id: 'x' }, token.read)).status).toBe(403);
    expect((await del('Organization/x', token.read)).status).toBe(403);
    expect((await post('Endpoint', endpoint('x'), token.v1)).status).toBe(403);
    const rows = await engine.db.query<{ action: string; outcome: string }>(
      `SELECT action, outcome FROM audit_events WHERE client_id = $1 AND outcome = 'denied' AND id > $2`,
      [writer.clientId, mark?.id],
    );
    expect(rows.map((r) => r.action).sort()).toEqual(['create', 'create', 'delete', 'update']);
  });

  it('403 for a patient-bound token, whatever its scopes', async () => {
    const reply = await post('Organization', organization('From an EHR launch'), token.patient);
    expect([reply.status, issues(reply)[0]?.code]).toEqual([403, 'forbidden']);
    expect(
      (
        await put(
          'Group/g1',
          { resourceType: 'Group', id: 'g1', type: 'person', actual: true },
          token.patient,
        )
      ).status,
    ).toBe(403);
  });

  it('takes SMART v1 .write and system/*.cud scopes', async () => {
    expect((await post('Organization', organization('By v1 scope'), token.v1)).status).toBe(201);
    expect((await post('Endpoint', endpoint('x'), token.wildcard)).status).toBe(201);
    expect(
      (
        await put(
          'Group/by-wildcard',
          { resourceType: 'Group', id: 'by-wildcard', type: 'person', actual: false },
          token.wildcard,
        )
      ).status,
    ).toBe(201);
  });

  it('needs c as well as u to create by PUT', async () => {
    const absent = await put(
      'Organization/update-only',
      { ...organization('x'), id: 'update-only' },
      token.updateOnly,
    );
    expect([absent.status, issues(absent)[0]?.code]).toEqual([403, 'forbidden']);
    await put('Organization/update-only', { ...organization('x'), id: 'update-only' });
    const present = await put(
      'Organization/update-only',
      { ...organization('y'), id: 'update-only' },
      token.updateOnly,
    );
    expect(present.status).toBe(200);
  });
});

describe('hospital data', () => {
  let practitionerId: string;

  beforeAll(async () => {
    const mllp = await MllpTestClient.connect(engine.mllpPort);
    const ack = await mllp.send(readFileSync('mappings/tests/adt-a01.hl7', 'utf8'));
    mllp.close();
    expect(ack.code).toBe('AA');
    await waitFor(async () => {
      const [row] = await engine.db.query<{ status: string }>(
        `SELECT status FROM messages WHERE control_id = $1`,
        [ack.controlId],
      );
      return row !== undefined && row.status !== 'received';
    });
    const found = matches(
      await get(`Practitioner?identifier=${encodeURIComponent(`${NPI}|${HOSPITAL_NPI}`)}`),
    );
    expect(found).toHaveLength(1);
    practitionerId = (found[0] ?? '').slice('Practitioner/'.length);
  });

  it('keeps a Practitioner the hospital feed wrote read-only: PUT and DELETE are 409, audited as denied', async () => {
    const before = await get(`Practitioner/${practitionerId}`);
    expect(String((before.body['meta'] as Json)['source'])).toMatch(/^urn:care:message:/);
    const changed = await put(`Practitioner/${practitionerId}`, { ...before.body, gender: 'other' });
    expect([changed.status, issues(changed)[0]?.code]).toEqual([409, 'business-rule']);
    expect((await del(`Practitioner/${practitionerId}`)).status).toBe(409);
    const after = await get(`Practitioner/${practitionerId}`);
    expect(after.body).toEqual(before.body);
    const rows = await engine.db.query<{ action: string; outcome: string }>(
      `SELECT action, outcome FROM audit_events WHERE resource_id = $1 AND action IN ('update', 'delete')`,
      [practitionerId],
    );
    expect(rows.map((r) => `${r.action}:${r.outcome}`).sort()).toEqual(['delete:denied', 'update:denied']);
  });

  it('lets the practice register its own Practitioner with the same NPI', async () => {
    const own = await post('Practitioner', {
      resourceType: 'Practitioner',
      identifier: [{ system: NPI, value: HOSPITAL_NPI }],
      name: [{ family: 'Welby', given: ['Marcus'] }],
    });
    expect(own.status).toBe(201);
    expect(own.body['id']).not.toBe(practitionerId);
  });
});

describe('audit', () => {
  it('records create, update and delete with the resource id, as successes', async () => {
    const created = await post('Organization', organization('Audited'));
    const id = String(created.body['id']);
    await put(`Organization/${id}`, { ...organization('Audited again'), id });
    await del(`Organization/${id}`);
    const rows = await engine.db.query<{
      client_id: string;
      action: string;
      resource_type: string;
      outcome: string;
    }>(
      `SELECT client_id, action, resource_type, outcome FROM audit_events WHERE resource_id = $1 ORDER BY id`,
      [id],
    );
    expect(rows).toEqual(
      ['create', 'update', 'delete'].map((action) => ({
        client_id: writer.clientId,
        action,
        resource_type: 'Organization',
        outcome: 'success',
      })),
    );
  });
});

describe('search over registrations', () => {
  let orgId: string;
  let endpointId: string;
  let roleId: string;
  let groupId: string;

  beforeAll(async () => {
    orgId = String((await post('Organization', organization('Searchable practice'))).body['id']);
    endpointId = String((await post('Endpoint', endpoint(orgId))).body['id']);
    await put(`Organization/${orgId}`, {
      ...organization('Searchable practice'),
      id: orgId,
      endpoint: [{ reference: `Endpoint/${endpointId}` }],
    });
    const role = await post('PractitionerRole', {
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { identifier: { system: NPI, value: '1234567890' } },
      organization: { reference: `Organization/${orgId}` },
      endpoint: [{ reference: `Endpoint/${endpointId}` }],
    });
    roleId = String(role.body['id']);
    const group = await post('Group', {
      resourceType: 'Group',
      type: 'person',
      actual: true,
      identifier: [{ system: 'urn:practice:rosters', value: 'searchable' }],
      member: [
        { entity: { reference: 'Patient/roster-p1' } },
        { entity: { reference: 'Patient/roster-p2' } },
      ],
    });
    groupId = String(group.body['id']);
  });

  it('finds a PractitionerRole by its practitioner NPI (a logical reference) and by endpoint', async () => {
    expect(
      matches(
        await get(`PractitionerRole?practitioner-identifier=${encodeURIComponent(`${NPI}|1234567890`)}`),
      ),
    ).toEqual([`PractitionerRole/${roleId}`]);
    expect(matches(await get(`PractitionerRole?endpoint=Endpoint/${endpointId}`))).toEqual([
      `PractitionerRole/${roleId}`,
    ]);
    expect(matches(await get(`PractitionerRole?organization=${orgId}&active=true`))).toEqual([
      `PractitionerRole/${roleId}`,
    ]);
    const included = await get(`PractitionerRole?_id=${roleId}&_include=PractitionerRole:endpoint`);
    expect(matches(included)).toEqual([`PractitionerRole/${roleId}`, `Endpoint/${endpointId}`]);
  });

  it('finds Endpoints, Organizations, Groups and Subscriptions by their new parameters', async () => {
    expect(
      matches(
        await get(`Endpoint?organization=Organization/${orgId}&status=active&connection-type=hl7-fhir-rest`),
      ),
    ).toEqual([`Endpoint/${endpointId}`]);
    expect(matches(await get(`Organization?endpoint=Endpoint/${endpointId}`))).toEqual([
      `Organization/${orgId}`,
    ]);
    expect(matches(await get('Group?member=Patient/roster-p2&type=person'))).toEqual([`Group/${groupId}`]);
    expect(matches(await get('Group?identifier=urn:practice:rosters|searchable'))).toEqual([
      `Group/${groupId}`,
    ]);
    const sub = await post('Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'search test',
      criteria: 'Encounter?patient=Patient/search-p',
      channel: { type: 'rest-hook', endpoint: 'https://practice.example/hook' },
    });
    const criteria = encodeURIComponent('Encounter?patient=Patient/search-p');
    expect(matches(await get(`Subscription?criteria=${criteria}&status=requested`))).toEqual([
      `Subscription/${String(sub.body['id'])}`,
    ]);
  });

  it('serves Communication, written by the engine, by recipient, patient, status and category', async () => {
    await engine.db.transaction((tx) =>
      applyBundle(
        tx,
        transaction({
          resourceType: 'Communication',
          id: 'notice-1',
          status: 'completed',
          category: [{ coding: [{ system: 'urn:care:notice', code: 'admission' }] }],
          subject: { reference: 'Patient/notice-p' },
          recipient: [{ reference: `PractitionerRole/${roleId}` }],
        }),
        { eventTime: '2024-03-05T10:00:00Z', messageId: '900000001' },
      ),
    );
    const q = `Communication?recipient=PractitionerRole/${roleId}&patient=notice-p&status=completed&category=admission`;
    expect(matches(await get(q))).toEqual(['Communication/notice-1']);
    expect(matches(await get('Communication?subject=Patient/notice-p'))).toEqual(['Communication/notice-1']);
  });

  it('advertises the writes in the CapabilityStatement', async () => {
    const res = await fetch(`${base}/fhir/metadata`);
    const statement = (await res.json()) as {
      rest: {
        resource: { type: string; interaction: { code: string }[]; searchParam: { name: string }[] }[];
      }[];
    };
    const resources = statement.rest[0]?.resource ?? [];
    const codes = (type: string): string[] =>
      resources.find((r) => r.type === type)?.interaction.map((i) => i.code) ?? [];
    for (const type of [
      'Organization',
      'Endpoint',
      'Practitioner',
      'PractitionerRole',
      'Group',
      'Subscription',
    ]) {
      expect(codes(type)).toEqual(
        expect.arrayContaining(['create', 'update', 'delete', 'read', 'search-type']),
      );
    }
    expect(codes('Patient')).not.toContain('create');
    expect(codes('Communication')).toEqual(['read', 'vread', 'history-instance', 'search-type']);
    const role = resources.find((r) => r.type === 'PractitionerRole');
    expect(role?.searchParam.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'practitioner',
        'practitioner-identifier',
        'organization',
        'endpoint',
        'active',
      ]),
    );
  });
});

describe('registration hooks', () => {
  it("refuses with the rule's issues (422), storing nothing and rolling back what the rule wrote", async () => {
    const reply = await post('Organization', organization('Refused by hook'));
    expect(reply.status).toBe(422);
    expect(issues(reply)).toEqual([
      {
        severity: 'error',
        code: 'business-rule',
        diagnostics: 'this name is taken',
        expression: ['Organization.name'],
      },
    ]);
    expect(matches(await get(`Organization?name=${encodeURIComponent('Refused by hook')}`))).toEqual([]);
    const probe = await engine.db.query(`SELECT 1 FROM audit_events WHERE client_id = 'hook-probe'`);
    expect(probe).toEqual([]);
    const stored = await engine.db.query(
      `SELECT 1 FROM fhir_resource_history WHERE resource_type = 'Organization' AND resource->>'name' = 'Refused by hook'`,
    );
    expect(stored).toEqual([]);
  });

  it('stores the body a rule rewrote, and tells afterCommit', async () => {
    const reply = await post('Organization', organization('Renamed by hook'));
    expect(reply.status).toBe(201);
    const id = String(reply.body['id']);
    expect(reply.body).toMatchObject({ name: 'Renamed', alias: ['by hook'] });
    expect((await get(`Organization/${id}`)).body).toMatchObject({ name: 'Renamed', alias: ['by hook'] });
    expect(commits.find((c) => c.id === id)).toMatchObject({
      type: 'Organization',
      versionId: '1',
      body: { name: 'Renamed', id },
    });
  });

  it('shows rules the previous content, the client and, on delete, no body', async () => {
    const created = await post('Organization', organization('Before'));
    const id = String(created.body['id']);
    await put(`Organization/${id}`, { ...organization('After'), id });
    await del(`Organization/${id}`);
    const seen = calls.filter((c) => c.id === id);
    expect(seen.map((c) => [c.body?.['name'], c.previous?.['name'], c.clientId])).toEqual([
      ['Before', undefined, writer.clientId],
      ['After', 'Before', writer.clientId],
      [undefined, 'After', writer.clientId],
    ]);
    expect(commits.filter((c) => c.id === id).map((c) => [c.versionId, c.body === undefined])).toEqual([
      ['1', false],
      ['2', false],
      ['3', true],
    ]);
  });
});

describe('through the engine itself', () => {
  it('writes and reads back an Organization and an Endpoint on the engine port', async () => {
    const org = await call(
      'POST',
      'Organization',
      token.write,
      organization('Via the engine'),
      {},
      publicUrl,
    );
    expect(org.status).toBe(201);
    const id = String(org.body['id']);
    const ep = await call('POST', 'Endpoint', token.write, endpoint(id), {}, publicUrl);
    expect(ep.status).toBe(201);
    const read = await call('GET', `Endpoint/${String(ep.body['id'])}`, token.read, undefined, {}, publicUrl);
    expect(read.body).toMatchObject({ managingOrganization: { reference: `Organization/${id}` } });
  });
});
