// Patient-bound access end to end: real signed tokens with a `patient` claim, the real bearer
// check and /fhir router, real PostgreSQL. Proves what such a token sees and that `?` filters never widen.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAuth } from '../../engine/src/auth/require-auth';
import { createTokenService, type TokenService } from '../../engine/src/auth/token-service';
import { createFhirRouter, type FhirAuditEvent } from '../../engine/src/http/fhir-router';
import { applyBundle } from '../../engine/src/store/fhir-resource-store';
import { createTestDb, type TestDb } from '../helpers/test-db';
import { encounter, observation, patient, transaction } from './fhir-fixtures';

const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const LAB_FILTER = `category=${CATEGORY}|laboratory`;

let t: TestDb;
let server: Server;
let base: string;
let tokens: TokenService;
const audits: FhirAuditEvent[] = [];

beforeAll(async () => {
  t = await createTestDb('fhirpatient');
  const app = express();
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  tokens = await createTokenService({ issuer: base });
  app.use(
    '/fhir',
    createFhirRouter({
      db: t.db,
      authorize: requireAuth(tokens),
      baseUrl: base,
      audit: async (e) => {
        audits.push(e);
        await Promise.resolve();
      },
    }),
  );
  const vital = { category: [{ coding: [{ system: CATEGORY, code: 'vital-signs' }] }] };
  await t.db.transaction((tx) =>
    applyBundle(
      tx,
      transaction(
        patient('p1', 'MRN1'),
        patient('p2', 'MRN2'),
        encounter('e1', 'p1', '2024-01-10T08:00:00Z'),
        encounter('e2', 'p2', '2024-01-11T08:00:00Z'),
        observation('lab1', 'p1', '2345-7', '2024-01-10T09:00:00Z'),
        observation('vital1', 'p1', '8867-4', '2024-01-10T09:05:00Z', vital),
        observation('lab2', 'p2', '2345-7', '2024-01-11T09:00:00Z'),
      ),
      { eventTime: '2024-01-12T00:00:00Z', messageId: 'm1' },
    ),
  );
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => {
    server.close((err) => {
      if (err) reject(err);
      else resolve();
    });
  });
  await t.drop();
});

async function tokenFor(scopes: string, patientId?: string): Promise<string> {
  const issued = await tokens.issue({
    clientId: 'pcp-app',
    scopes: scopes.split(' '),
    ...(patientId === undefined ? {} : { patient: patientId }),
  });
  return issued.access_token;
}

async function get(path: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function ids(body: Record<string, unknown>): string[] {
  const entry = (body['entry'] as { resource: { id: string } }[] | undefined) ?? [];
  return entry.map((e) => e.resource.id);
}

describe('a token with a patient claim', () => {
  it('carries its patient as a set in the AccessContext', async () => {
    const ctx = await tokens.verify(await tokenFor('patient/*.rs', 'p1'));
    expect(ctx.patients).toEqual(new Set(['p1']));
    expect((await tokens.verify(await tokenFor('system/*.rs'))).patients).toBeUndefined();
  });

  it('reads only its patient', async () => {
    const token = await tokenFor('patient/*.rs', 'p1');
    expect((await get('/fhir/Patient/p1', token)).status).toBe(200);
    expect((await get('/fhir/Observation/lab1', token)).status).toBe(200);
    // Another Patient by id is refused outright, existing or not; other types stay 404 (hidden = unknown).
    expect((await get('/fhir/Patient/p2', token)).status).toBe(403);
    expect((await get('/fhir/Patient/no-such-patient', token)).status).toBe(403);
    expect((await get('/fhir/Observation/lab2', token)).status).toBe(404);
    expect((await get('/fhir/Encounter/e2/_history/1', token)).status).toBe(404);
    expect(audits.at(-1)).toMatchObject({ outcome: 'denied', patientIds: ['p2'], returned: [] });
  });

  it('searches only its patient, whatever the query asks', async () => {
    const token = await tokenFor('patient/*.rs', 'p1');
    expect(ids((await get('/fhir/Patient', token)).body)).toEqual(['p1']);
    expect(ids((await get('/fhir/Observation?_sort=date', token)).body)).toEqual(['lab1', 'vital1']);
    expect((await get('/fhir/Encounter?patient=p2', token)).body['total']).toBe(0);
    const included = await get('/fhir/Encounter?_include=Encounter:patient', token);
    expect(ids(included.body)).toEqual(['e1', 'p1']);
  });

  it('is refused patient/ access without a patient claim', async () => {
    const token = await tokenFor('patient/*.rs');
    expect((await get('/fhir/Patient/p1', token)).status).toBe(403);
    expect((await get('/fhir/Observation', token)).status).toBe(403);
  });
});

describe('a scope with a ? filter', () => {
  it('grants nothing on its own, so no Observation outside the filter is served', async () => {
    const token = await tokenFor(`patient/Observation.rs?${LAB_FILTER} patient/Patient.rs`, 'p1');
    expect((await get('/fhir/Patient/p1', token)).status).toBe(200);
    expect((await get('/fhir/Observation', token)).status).toBe(403);
    expect((await get('/fhir/Observation/vital1', token)).status).toBe(403);
    expect((await get('/fhir/Observation/lab1', token)).status).toBe(403);
    const system = await tokenFor(`system/Observation.rs?${LAB_FILTER}`);
    expect((await get('/fhir/Observation/vital1', system)).status).toBe(403);
    expect((await get(`/fhir/Observation?${LAB_FILTER}`, system)).status).toBe(403);
  });

  it('leaves an unfiltered scope beside it working as written', async () => {
    const token = await tokenFor(`patient/Observation.rs?${LAB_FILTER} patient/Observation.r`, 'p1');
    expect((await get('/fhir/Observation/vital1', token)).status).toBe(200);
    expect((await get('/fhir/Observation', token)).status).toBe(403);
  });
});
