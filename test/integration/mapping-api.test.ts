/**
 * The mapping API against a real engine (PostgreSQL, Redis, MLLP) on a copy of the mappings:
 * list and read with ETags; deploy refused without If-Match (428), on a stale ETag (412), on an
 * invalid set (422 naming file and line, nothing written) and without Mapping.u (403); a deploy
 * that lands is recorded, on disk and in force for the very next message; versions and rollback;
 * path traversal refused.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient, type SystemClient } from '../helpers/system-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let root: string;
let dir: string;
let engine: TestEngine;
let client: SystemClient;
let base: string;
/** May deploy. */
let admin: string;
/** May read and try mappings, not deploy. */
let analyst: string;
let original: string;
let seq = 0;

const PATIENT = 'rules/patient.yaml';

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

async function call(
  method: string,
  url: string,
  o: { bearer?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${o.bearer ?? admin}`,
      ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...o.headers,
    },
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

const onDisk = (rel: string): string => readFileSync(path.join(dir, rel), 'utf8');

async function versionRows(rel: string): Promise<number> {
  const rows = await engine.db.query(`SELECT 1 FROM mapping_versions WHERE path = $1`, [rel]);
  return rows.length;
}

/** Sends an A01 over MLLP and waits until it is processed; its id. */
async function sendAdmission(): Promise<string> {
  const controlId = `MAPAPI-${++seq}`;
  const mllp = await MllpTestClient.connect(engine.mllpPort);
  try {
    expect((await mllp.send(adtMessage({ controlId, mrn: `MA${seq}` }))).code).toBe('AA');
  } finally {
    mllp.close();
  }
  let id = '';
  await waitFor(async () => {
    const [row] = await engine.db.query<{ id: string }>(
      `SELECT id::text AS id FROM messages WHERE control_id = $1 AND status <> 'received'`,
      [controlId],
    );
    id = row?.id ?? '';
    return row !== undefined;
  });
  return id;
}

/** The message as the admin API shows it: its mapping version and the Patient it produced. */
async function processedMessage(
  id: string,
): Promise<{ mappingVersion: string; patient: Record<string, unknown> }> {
  const m = await call('GET', `/api/messages/${id}`);
  expect(m.status).toBe(200);
  expect(m.body['status']).toBe('processed');
  const entries = (m.body['fhir'] as { entry: { resource: Record<string, unknown> }[] }).entry;
  const patient = entries.map((e) => e.resource).find((r) => r['resourceType'] === 'Patient');
  expect(patient).toBeDefined();
  return { mappingVersion: m.body['mappingVersion'] as string, patient: patient! };
}

/** A raw request, so `..` reaches the server as sent (fetch would normalise it away). */
function rawRequest(method: string, rawPath: string, bearer: string, body?: unknown): Promise<number> {
  const url = new URL(base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: rawPath,
        headers: {
          authorization: `Bearer ${bearer}`,
          ...(payload !== undefined ? { 'content-type': 'application/json', 'if-none-match': '*' } : {}),
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'mapping-api-'));
  dir = path.join(root, 'mappings');
  cpSync('mappings', dir, { recursive: true });
  original = onDisk(PATIENT);
  client = await createSystemClient('system/*.rs system/Message.rs system/Mapping.rus');
  engine = await startTestEngine({ env: { MAPPINGS_DIR: dir, SMART_CLIENTS_FILE: client.clientsFile } });
  base = engine.config.http.publicUrl;
  admin = await client.token(base, 'system/Mapping.rus system/Message.rs');
  analyst = await client.token(base, 'system/Mapping.rs system/Message.rs');
});
afterAll(async () => {
  await engine.destroy();
  rmSync(root, { recursive: true, force: true });
});

describe('mapping API: reading', () => {
  it('lists the set with its version, each file with its ETag and kind, never tests/', async () => {
    const list = await call('GET', '/api/mappings', { bearer: analyst });
    expect(list.status).toBe(200);
    expect(list.body['version']).toMatch(/^[0-9a-f]{16}$/);
    const files = list.body['files'] as { path: string; etag: string; kind: string }[];
    const kinds = Object.fromEntries(files.map((f) => [f.path, f.kind]));
    expect(kinds).toMatchObject({
      'adt.yaml': 'mapping',
      [PATIENT]: 'rules',
      'codes/v2-0001.csv': 'codes',
      'senders/NORTHWIND/adt.yaml': 'mapping',
      'notify/result-flags.csv': 'other',
    });
    expect(files.some((f) => f.path.startsWith('tests/'))).toBe(false);
    for (const f of files) expect(f.etag).toMatch(/^"[A-Za-z0-9_-]{16}"$/);
  });

  it('reads a file with its ETag, and the schema', async () => {
    const file = await call('GET', `/api/mappings/${PATIENT}`, { bearer: analyst });
    expect(file.status).toBe(200);
    expect(file.body).toMatchObject({ path: PATIENT, content: original });
    expect(file.headers.get('etag')).toBe(file.body['etag']);
    expect((await call('GET', '/api/mappings/rules/nothing.yaml', { bearer: analyst })).status).toBe(404);
    const schema = await call('GET', '/api/mappings/schema', { bearer: analyst });
    expect(schema.status).toBe(200);
    expect(schema.body['$schema']).toBeTypeOf('string');
  });

  it('refuses paths outside the mappings, under tests/ or of other kinds (400)', async () => {
    for (const bad of [
      'rules%2F..%2F..%2Foutside.yaml',
      '%2Fetc%2Foutside.yaml',
      'rules%5Cpatient.yaml',
      'rules%00.yaml',
      'tests/adt-a01.hl7',
      'tests/extra.yaml',
      'rules/patient.json',
      '.hidden.yaml',
    ]) {
      const read = await call('GET', `/api/mappings/${bad}`, { bearer: analyst });
      expect(read.status, bad).toBe(400);
      expect(read.body['resourceType']).toBe('OperationOutcome');
      const put = await call('PUT', `/api/mappings/${bad}`, {
        body: { content: 'description: x\n' },
        headers: { 'if-none-match': '*' },
      });
      expect(put.status, bad).toBe(400);
    }
    expect(await rawRequest('GET', '/api/mappings/../../etc/passwd.yaml', analyst)).toBe(400);
    expect(
      await rawRequest('PUT', '/api/mappings/rules/../../outside.yaml', admin, {
        content: 'description: x\n',
      }),
    ).toBe(400);
    expect(existsSync(path.join(root, 'outside.yaml'))).toBe(false);
    expect(existsSync(path.join(dir, 'tests', 'extra.yaml'))).toBe(false);
  });

  it('refuses without a token that reads mappings', async () => {
    const none = await client.token(base, 'system/Message.rs');
    expect((await call('GET', '/api/mappings', { bearer: none })).status).toBe(403);
  });
});

describe('mapping API: deploying', () => {
  it('needs If-Match (428) and a current ETag (412); nothing is written', async () => {
    const changed = original.replace('active: { value: true }', 'active: { value: false }');
    const noMatch = await call('PUT', `/api/mappings/${PATIENT}`, { body: { content: changed } });
    expect(noMatch.status).toBe(428);
    expect(noMatch.body['resourceType']).toBe('OperationOutcome');
    const stale = await call('PUT', `/api/mappings/${PATIENT}`, {
      body: { content: changed },
      headers: { 'if-match': '"AAAAAAAAAAAAAAAA"' },
    });
    expect(stale.status).toBe(412);
    const exists = await call('PUT', `/api/mappings/${PATIENT}`, {
      body: { content: changed },
      headers: { 'if-none-match': '*' },
    });
    expect(exists.status).toBe(412);
    expect(onDisk(PATIENT)).toBe(original);
    expect(await versionRows(PATIENT)).toBe(0);
  });

  it('refuses an invalid set with 422 listing every problem with file and line; nothing is written', async () => {
    const { body } = await call('GET', `/api/mappings/${PATIENT}`);
    const etag = body['etag'] as string;
    const lineOf = (text: string): number => original.split('\n').findIndex((l) => l.includes(text)) + 1;
    const attempts: { content: string; expect: RegExp[] }[] = [
      // Two problems in one file: an element Patient does not have, and a code table that does not exist.
      {
        content: original
          .replace('active: { value: true }', 'activ: { value: true }')
          .replace('table: v2-0001 }', 'table: v2-9999 }'),
        expect: [
          new RegExp(`^rules/patient\\.yaml:${lineOf('active: { value: true }')}$`),
          new RegExp(`^rules/patient\\.yaml:${lineOf('table: v2-0001 }')}$`),
        ],
      },
      // Not YAML.
      {
        content: original.replace('active: { value: true }', 'active: { value: true'),
        expect: [/^rules\/patient\.yaml:\d+$/],
      },
      // A property the mapping schema does not know.
      {
        content: original.replace('    update: merge\n', '    update: merge\n    colour: red\n'),
        expect: [/^rules\/patient\.yaml:11$/],
      },
    ];
    for (const a of attempts) {
      const put = await call('PUT', `/api/mappings/${PATIENT}`, {
        body: { content: a.content },
        headers: { 'if-match': etag },
      });
      expect(put.status).toBe(422);
      const issues = put.body['issue'] as { location: string[]; diagnostics: string }[];
      const locations = issues.map((i) => i.location[0] ?? '');
      for (const re of a.expect) {
        expect(
          locations.some((l) => re.test(l)),
          `${re} in ${locations.join(', ')}`,
        ).toBe(true);
      }
      for (const i of issues) expect(i.diagnostics).toBeTypeOf('string');
    }
    const both = (
      await call('PUT', `/api/mappings/${PATIENT}`, {
        body: { content: attempts[0]!.content },
        headers: { 'if-match': etag },
      })
    ).body['issue'] as { diagnostics: string }[];
    expect(both.map((i) => i.diagnostics).join('\n')).toMatch(/no element "activ"[\s\S]*v2-9999/);
    expect(onDisk(PATIENT)).toBe(original);
    expect(await versionRows(PATIENT)).toBe(0);
  });

  it('refuses a token without Mapping.u (403) and writes nothing', async () => {
    const { body } = await call('GET', `/api/mappings/${PATIENT}`);
    const put = await call('PUT', `/api/mappings/${PATIENT}`, {
      bearer: analyst,
      body: { content: original.replace('active: { value: true }', 'active: { value: false }') },
      headers: { 'if-match': body['etag'] as string },
    });
    expect(put.status).toBe(403);
    expect(onDisk(PATIENT)).toBe(original);
    expect(await versionRows(PATIENT)).toBe(0);
    const denied = await engine.db.query(
      `SELECT 1 FROM audit_events WHERE resource_type = 'Mapping' AND action = 'update' AND outcome = 'denied'`,
    );
    expect(denied.length).toBeGreaterThan(0);
  });

  it('deploys: recorded, on disk, and in force for the next processed message; then rolls back', async () => {
    const before = await sendAdmission();
    const first = await processedMessage(before);
    expect(first.patient['active']).toBe(true);
    const listed = await call('GET', '/api/mappings');
    expect(listed.body['version']).toBe(first.mappingVersion);

    const read = await call('GET', `/api/mappings/${PATIENT}`);
    const changed = original.replace('active: { value: true }', 'active: { value: false }');
    const put = await call('PUT', `/api/mappings/${PATIENT}`, {
      body: { content: changed },
      headers: { 'if-match': read.headers.get('etag')! },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ path: PATIENT, version: 2 });
    expect(put.body['setVersion']).toMatch(/^[0-9a-f]{16}$/);
    expect(put.body['setVersion']).not.toBe(first.mappingVersion);
    expect(put.headers.get('etag')).toBe(put.body['etag']);
    expect(onDisk(PATIENT)).toBe(changed);

    // No waiting for the watcher: the very next message runs the deployed set.
    const after = await processedMessage(await sendAdmission());
    expect(after.mappingVersion).toBe(put.body['setVersion']);
    expect(after.patient['active']).toBe(false);

    const versions = await call('GET', `/api/mappings/${PATIENT}/versions`, { bearer: analyst });
    expect(versions.status).toBe(200);
    const list = versions.body['versions'] as {
      version: number;
      action: string;
      author: string;
      etag: string;
    }[];
    expect(list.map((v) => [v.version, v.action])).toEqual([
      [2, 'deploy'],
      [1, 'baseline'],
    ]);
    expect(list[0]!.author).toBe(client.clientId);
    expect(list[1]!.author).toBe('files');
    expect(list[0]!.etag).toBe(put.body['etag']);
    const v1 = await call('GET', `/api/mappings/${PATIENT}/versions/1`, { bearer: analyst });
    expect(v1.body).toMatchObject({ path: PATIENT, version: 1, content: original, action: 'baseline' });
    expect((await call('GET', `/api/mappings/${PATIENT}/versions/9`)).status).toBe(404);
    const file = await call('GET', `/api/mappings/${PATIENT}`);
    expect(file.body['version']).toBe(2);
    const entry = (
      (await call('GET', '/api/mappings')).body['files'] as { path: string; deployed?: unknown }[]
    ).find((f) => f.path === PATIENT);
    expect(entry?.deployed).toMatchObject({ version: 2, author: client.clientId });

    const audited = await engine.db.query(
      `SELECT 1 FROM audit_events WHERE resource_type = 'Mapping' AND action = 'update'
          AND resource_id = $1 AND outcome = 'success'`,
      [PATIENT],
    );
    expect(audited).toHaveLength(1);

    // Rollback: If-Match required, then the baseline's content is back and in force.
    expect((await call('POST', `/api/mappings/${PATIENT}/versions/1/rollback`)).status).toBe(428);
    expect(
      (
        await call('POST', `/api/mappings/${PATIENT}/versions/1/rollback`, {
          bearer: analyst,
          headers: { 'if-match': put.body['etag'] as string },
        })
      ).status,
    ).toBe(403);
    const back = await call('POST', `/api/mappings/${PATIENT}/versions/1/rollback`, {
      headers: { 'if-match': put.body['etag'] as string },
    });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ path: PATIENT, version: 3, setVersion: first.mappingVersion });
    expect(onDisk(PATIENT)).toBe(original);
    const rolled = await processedMessage(await sendAdmission());
    expect(rolled.mappingVersion).toBe(first.mappingVersion);
    expect(rolled.patient['active']).toBe(true);
    const after3 = (await call('GET', `/api/mappings/${PATIENT}/versions`)).body['versions'] as {
      action: string;
    }[];
    expect(after3.map((v) => v.action)).toEqual(['rollback', 'deploy', 'baseline']);
  });

  it('creates a file with If-None-Match: *, and records no version when the write fails', async () => {
    const table = 'code,system,target,display\nX,http://example.org,x,Example\n';
    const created = await call('PUT', '/api/mappings/codes/local-extra.csv', {
      body: { content: table },
      headers: { 'if-none-match': '*' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ version: 1 });
    expect(onDisk('codes/local-extra.csv')).toBe(table);
    const kinds = (await call('GET', '/api/mappings')).body['files'] as { path: string; kind: string }[];
    expect(kinds.find((f) => f.path === 'codes/local-extra.csv')?.kind).toBe('codes');

    // adt.yaml is a file, so adt.yaml/x.yaml cannot be written: the deploy fails after validation.
    const failed = await call('PUT', '/api/mappings/adt.yaml/x.yaml', {
      body: { content: 'description: never written\n' },
      headers: { 'if-none-match': '*' },
    });
    expect(failed.status).toBe(500);
    expect(await versionRows('adt.yaml/x.yaml')).toBe(0);
    expect(onDisk('adt.yaml')).toContain('messageType: ADT');
  });
});
