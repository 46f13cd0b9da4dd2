/**
 * The /fhir API over a real express server on a loopback port, against real PostgreSQL: scopes,
 * patient-bound tokens, audit records, paging links and OperationOutcome errors.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setAccessContext } from '../../engine/src/auth/access-context';
import { createFhirRouter, type FhirAuditEvent } from '../../engine/src/http/fhir-router';
import { outcome, sendOutcome } from '../../engine/src/http/operation-outcome';
import { applyBundle } from '../../engine/src/store/fhir-resource-store';
import type { TransactionBundle } from '../../engine/src/store/fhir-types';
import { createTestDb, type TestDb } from '../helpers/test-db';
import { encounter, observation, patient, report, transaction } from './fhir-fixtures';

const PUBLIC_URL = 'https://care.example';
const ALL = 'system/*.rs';

let t: TestDb;
let server: Server;
let base: string;
let audits: FhirAuditEvent[];

/** Stands in for require-auth: the AccessContext comes from test headers (patients comma-separated). */
const authorize: RequestHandler = (req, res, next) => {
  const scopes = req.get('x-test-scopes');
  if (scopes === undefined) {
    sendOutcome(res, outcome('login', 'a bearer token is required'));
    return;
  }
  const patients = req.get('x-test-patient');
  setAccessContext(res, {
    clientId: req.get('x-test-client') ?? 'client-a',
    scopes: scopes.split(' '),
    ...(patients === undefined ? {} : { patients: new Set(patients.split(',')) }),
  });
  next();
};

async function store(bundle: TransactionBundle, eventTime: string): Promise<void> {
  await t.db.transaction((tx) => applyBundle(tx, bundle, { eventTime, messageId: eventTime }));
}

beforeEach(async () => {
  t = await createTestDb('fhirapi');
  audits = [];
  const app = express();
  app.use(
    '/fhir',
    createFhirRouter({
      db: t.db,
      authorize,
      baseUrl: `${PUBLIC_URL}/`,
      audit: async (e) => {
        if (e.clientId === 'audit-down') throw new Error('audit store unavailable');
        audits.push(e);
        await Promise.resolve();
      },
    }),
  );
  app.get('/fhir/.well-known/smart-configuration', (_req, res) => {
    res.json({ token_endpoint: `${PUBLIC_URL}/auth/token` });
  });
  const onError: ErrorRequestHandler = (_err, _req, res, _next) => {
    sendOutcome(res, outcome('exception', 'internal error'));
  };
  app.use(onError);
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => {
      resolve(s);
    });
  });
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  await store(
    transaction(
      patient('p1', 'MRN1'),
      patient('p2', 'MRN2'),
      encounter('e1', 'p1', '2024-01-10T08:00:00Z', { end: '2024-01-11T08:00:00Z' }),
      encounter('e2', 'p1', '2024-02-10T08:00:00Z'),
      encounter('e3', 'p1', '2024-03-10T08:00:00Z'),
      encounter('e4', 'p2', '2024-03-12T08:00:00Z'),
      observation('o1', 'p1', '2345-7', '2024-01-10T09:00:00Z'),
      report('r1', 'p1', ['o1']),
    ),
    '2024-03-12T09:00:00Z',
  );
});

afterEach(async () => {
  await new Promise<void>((resolve, reject) => {
    server.close((err) => {
      if (err) reject(err);
      else resolve();
    });
  });
  await t.drop();
});

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** GET with the given scopes; `null` sends no token at all. */
async function get(
  path: string,
  scopes: string | null = ALL,
  extra: Record<string, string> = {},
): Promise<Reply> {
  const headers: Record<string, string> = {
    ...extra,
    ...(scopes === null ? {} : { 'x-test-scopes': scopes }),
  };
  const res = await fetch(`${base}${path}`, { headers });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  };
}

function issue(reply: Reply): Record<string, unknown> {
  expect(reply.body['resourceType']).toBe('OperationOutcome');
  return (reply.body['issue'] as Record<string, unknown>[])[0] ?? {};
}

interface EntryView {
  fullUrl: string;
  resource?: { id: string; resourceType: string };
  search?: { mode: string };
}

function entries(reply: Reply): EntryView[] {
  return (reply.body['entry'] as EntryView[] | undefined) ?? [];
}

function link(reply: Reply, relation: string): string | undefined {
  const links = reply.body['link'] as { relation: string; url: string }[];
  return links.find((l) => l.relation === relation)?.url;
}

describe('/fhir/metadata', () => {
  it('serves the CapabilityStatement without a token', async () => {
    const reply = await get('/fhir/metadata', null);
    expect(reply.status).toBe(200);
    expect(reply.type).toMatch(/^application\/fhir\+json/);
    expect(reply.body).toMatchObject({
      resourceType: 'CapabilityStatement',
      fhirVersion: '4.0.1',
      kind: 'instance',
    });
    const rest = (reply.body['rest'] as Record<string, unknown>[])[0] ?? {};
    expect(JSON.stringify(rest['security'])).toContain(`${PUBLIC_URL}/auth/token`);
    const resources = rest['resource'] as {
      type: string;
      searchParam: { name: string }[];
      searchInclude: string[];
    }[];
    const enc = resources.find((r) => r.type === 'Encounter');
    expect(enc?.searchParam.map((p) => p.name)).toEqual(
      expect.arrayContaining(['patient', 'date', 'status', 'class']),
    );
    expect(enc?.searchInclude).toContain('Encounter:patient');
    expect(audits).toEqual([]);
  });

  it('leaves /.well-known to the discovery handler, without a token', async () => {
    const reply = await get('/fhir/.well-known/smart-configuration', null);
    expect(reply.status).toBe(200);
    expect(reply.body['token_endpoint']).toBe(`${PUBLIC_URL}/auth/token`);
  });
});

describe('read, vread and history', () => {
  it('reads a resource with its version headers and audits it', async () => {
    const reply = await get('/fhir/Patient/p1', ALL, { 'x-test-client': 'pcp-portal' });
    expect(reply.status).toBe(200);
    expect(reply.type).toMatch(/^application\/fhir\+json/);
    expect(reply.headers.get('etag')).toBe('W/"1"');
    expect(reply.body).toMatchObject({ resourceType: 'Patient', id: 'p1', meta: { versionId: '1' } });
    expect(audits).toEqual([
      {
        action: 'read',
        outcome: 'success',
        resourceType: 'Patient',
        resourceId: 'p1',
        returned: ['Patient/p1'],
        patientIds: ['p1'],
        clientId: 'pcp-portal',
      },
    ]);
  });

  it('keeps every version: history newest first, vread of an old one', async () => {
    await store(
      transaction(encounter('e1', 'p1', '2024-01-10T08:00:00Z', { end: '2024-01-12T08:00:00Z' })),
      '2024-03-13',
    );
    const history = await get('/fhir/Encounter/e1/_history');
    expect(history.body).toMatchObject({ resourceType: 'Bundle', type: 'history', total: 2 });
    expect(entries(history).map((e) => e.fullUrl)).toEqual([
      `${PUBLIC_URL}/fhir/Encounter/e1`,
      `${PUBLIC_URL}/fhir/Encounter/e1`,
    ]);
    const v1 = await get('/fhir/Encounter/e1/_history/1');
    expect(v1.status).toBe(200);
    expect(v1.body['period']).toEqual({ start: '2024-01-10T08:00:00Z', end: '2024-01-11T08:00:00Z' });
    expect(issue(await get('/fhir/Encounter/e1/_history/9'))['code']).toBe('not-found');
    expect(audits.map((a) => a.action)).toEqual(['history', 'vread', 'vread']);
  });

  it('answers 410 for a deleted resource', async () => {
    await store(
      {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ request: { method: 'DELETE', url: 'Observation/o1' } }],
      },
      '2024-03-14',
    );
    const reply = await get('/fhir/Observation/o1');
    expect(reply.status).toBe(410);
    expect(issue(reply)['code']).toBe('deleted');
  });

  it('answers errors as OperationOutcome: unknown type, bad id, missing, no token, write', async () => {
    const unknownType = await get('/fhir/Spaceship/1');
    expect([unknownType.status, issue(unknownType)['code']]).toEqual([404, 'not-found']);
    const badId = await get('/fhir/Patient/bad_id!');
    expect([badId.status, issue(badId)['code']]).toEqual([400, 'invalid']);
    const missing = await get('/fhir/Patient/nobody');
    expect([missing.status, issue(missing)['code']]).toEqual([404, 'not-found']);
    const noToken = await get('/fhir/Patient/p1', null);
    expect([noToken.status, issue(noToken)['code']]).toEqual([401, 'login']);
    const post = await fetch(`${base}/fhir/Patient`, { method: 'POST', headers: { 'x-test-scopes': ALL } });
    expect(post.status).toBe(405);
    expect(post.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  });

  it('fails the request when the audit cannot be recorded', async () => {
    const reply = await get('/fhir/Patient/p1', ALL, { 'x-test-client': 'audit-down' });
    expect(reply.status).toBe(500);
    expect(reply.body['id']).toBeUndefined();
    expect(issue(reply)['code']).toBe('exception');
  });
});

describe('scopes', () => {
  it('answers 403 when no scope allows the interaction, and audits the refusal', async () => {
    const reply = await get('/fhir/Patient/p1', 'system/Observation.rs');
    expect([reply.status, issue(reply)['code']]).toEqual([403, 'forbidden']);
    const search = await get('/fhir/Encounter?patient=p1', 'system/Encounter.r');
    expect(search.status).toBe(403);
    expect(audits.map((a) => [a.action, a.outcome, a.returned.length])).toEqual([
      ['read', 'denied', 0],
      ['search', 'denied', 0],
    ]);
    expect(audits[1]?.query).toBe('patient=p1');
  });

  it('keeps a patient-bound token inside its patient', async () => {
    const headers = { 'x-test-patient': 'p2' };
    const own = await get('/fhir/Patient/p2', 'patient/*.rs', headers);
    expect(own.status).toBe(200);
    // Another Patient is refused outright (403), whether or not it exists.
    const other = await get('/fhir/Patient/p1', 'patient/*.rs', headers);
    expect(other.status).toBe(403);
    expect(audits[1]).toMatchObject({ outcome: 'denied', patientIds: ['p1'], returned: [] });
    const encounters = await get('/fhir/Encounter?_include=Encounter:patient', 'patient/*.rs', headers);
    expect(entries(encounters).map((e) => e.resource?.id)).toEqual(['e4', 'p2']);
    const noPatient = await get('/fhir/Encounter', 'patient/*.rs');
    expect(noPatient.status).toBe(403);
  });

  it('lets a token bound to several patients see each of them and no other', async () => {
    await store(
      transaction(patient('p3', 'MRN3'), encounter('e5', 'p3', '2024-03-13T08:00:00Z')),
      '2024-03-13',
    );
    const headers = { 'x-test-patient': 'p2,p3' };
    expect((await get('/fhir/Patient/p2', 'patient/*.rs', headers)).status).toBe(200);
    expect((await get('/fhir/Encounter/e5', 'patient/*.rs', headers)).status).toBe(200);
    expect((await get('/fhir/Encounter/e1', 'patient/*.rs', headers)).status).toBe(404);
    expect((await get('/fhir/Encounter/e1/_history', 'patient/*.rs', headers)).status).toBe(404);
    const patients = await get('/fhir/Patient?_sort=_id', 'patient/*.rs', headers);
    expect(entries(patients).map((e) => e.resource?.id)).toEqual(['p2', 'p3']);
    const encounters = await get('/fhir/Encounter?_sort=date', 'patient/*.rs', headers);
    expect(entries(encounters).map((e) => e.resource?.id)).toEqual(['e4', 'e5']);
    // Asking for another patient's data by parameter narrows further; it never widens.
    const asked = await get('/fhir/Encounter?patient=p1', 'patient/*.rs', headers);
    expect(asked.body['total']).toBe(0);
    const search = audits.find((a) => a.action === 'search' && a.resourceType === 'Encounter');
    expect(search?.patientIds.slice().sort()).toEqual(['p2', 'p3']);
  });

  it('includes only resources of types the scopes grant', async () => {
    const headers = { 'x-test-patient': 'p1' };
    const noPatientScope = await get(
      '/fhir/Encounter?_include=Encounter:patient',
      'patient/Encounter.rs',
      headers,
    );
    expect(entries(noPatientScope).map((e) => e.search?.mode)).toEqual(['match', 'match', 'match']);
    const withPatientScope = await get(
      '/fhir/Encounter?_id=e1&_include=Encounter:patient',
      'patient/Encounter.rs patient/Patient.r',
      headers,
    );
    expect(entries(withPatientScope).map((e) => e.resource?.id)).toEqual(['e1', 'p1']);
    const system = await get('/fhir/Encounter?_id=e4&_include=Encounter:patient', 'system/Encounter.rs');
    expect(entries(system).map((e) => e.resource?.id)).toEqual(['e4']);
  });

  it('never widens a scope with a ? filter: it grants nothing', async () => {
    const lab = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
    const filtered = `patient/Observation.rs?category=${lab}`;
    const headers = { 'x-test-patient': 'p1' };
    const search = await get('/fhir/Observation', filtered, headers);
    expect([search.status, issue(search)['code']]).toEqual([403, 'forbidden']);
    expect((await get('/fhir/Observation/o1', filtered, headers)).status).toBe(403);
    expect((await get('/fhir/Observation/o1', `system/Observation.rs?category=${lab}`)).status).toBe(403);
    // Nor through an include from a type the token may read.
    const reports = await get(
      '/fhir/DiagnosticReport?_include=DiagnosticReport:result',
      `patient/DiagnosticReport.rs ${filtered}`,
      headers,
    );
    expect(entries(reports).map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`)).toEqual([
      'DiagnosticReport/r1',
    ]);
  });
});

describe('search', () => {
  it('returns a searchset with total, fullUrls and paging links to follow', async () => {
    const first = await get('/fhir/Encounter?patient=p1&_sort=-date&_count=2');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 3 });
    expect(entries(first).map((e) => e.fullUrl)).toEqual([
      `${PUBLIC_URL}/fhir/Encounter/e3`,
      `${PUBLIC_URL}/fhir/Encounter/e2`,
    ]);
    expect(link(first, 'self')).toBe(
      `${PUBLIC_URL}/fhir/Encounter?patient=p1&_sort=-date&_count=2&_offset=0`,
    );
    expect(link(first, 'previous')).toBeUndefined();
    const next = link(first, 'next') ?? '';
    const second = await get(next.replace(PUBLIC_URL, ''));
    expect(entries(second).map((e) => e.resource?.id)).toEqual(['e1']);
    expect(link(second, 'next')).toBeUndefined();
    expect(link(second, 'previous')).toContain('_offset=0');
    expect(audits.map((a) => a.returned)).toEqual([['Encounter/e3', 'Encounter/e2'], ['Encounter/e1']]);
    expect(audits[0]).toMatchObject({
      action: 'search',
      patientIds: ['p1'],
      query: 'patient=p1&_sort=-date&_count=2',
    });
  });

  it('adds _include entries with search.mode include', async () => {
    const reply = await get('/fhir/DiagnosticReport?subject=Patient/p1&_include=DiagnosticReport:result');
    expect(entries(reply).map((e) => [e.resource?.resourceType, e.search?.mode])).toEqual([
      ['DiagnosticReport', 'match'],
      ['Observation', 'include'],
    ]);
    const obs = await get('/fhir/Observation?patient=p1&_include=Observation:patient');
    expect(entries(obs).map((e) => e.fullUrl)).toEqual([
      `${PUBLIC_URL}/fhir/Observation/o1`,
      `${PUBLIC_URL}/fhir/Patient/p1`,
    ]);
  });

  it('refuses unknown parameters and malformed dates with a 400 OperationOutcome', async () => {
    const unknown = await get('/fhir/Observation?patient=p1&colour=red');
    expect(unknown.status).toBe(400);
    expect(issue(unknown)).toMatchObject({ code: 'not-supported', expression: ['colour'] });
    expect(String(issue(unknown)['diagnostics'])).toContain('colour');
    const badDate = await get('/fhir/Encounter?date=ge2024-99-01');
    expect(badDate.status).toBe(400);
    expect(issue(badDate)).toMatchObject({ code: 'invalid', expression: ['date'] });
  });

  it('reads an unencoded + offset in a date as written', async () => {
    // 09:00+01:00 is 08:00Z, when e3 starts: read as UTC it would wrongly include e3.
    const reply = await get('/fhir/Encounter?date=lt2024-03-10T09:00:00+01:00&_sort=date');
    expect(entries(reply).map((e) => e.resource?.id)).toEqual(['e1', 'e2']);
  });
});
