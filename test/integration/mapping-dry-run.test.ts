/**
 * Trying a mapping change over the API before deploying it: a dry run over archived messages (by
 * id, or a sender's latest N) or a pasted one reports which outputs change and how (a
 * jsondiffpatch delta), which fail and why, and stores and sends nothing; the golden examples
 * run against the edited set. Real engine, PostgreSQL and Redis, on a copy of the mappings.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
/** Reads mappings and messages. */
let analyst: string;
/** Reads mappings only: no access to archived messages. */
let mappingOnly: string;
let patientYaml: string;
const ids: string[] = [];

const SENDER = 'DRYRUN';
const PATIENT = 'rules/patient.yaml';

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

interface Result {
  id?: string;
  controlId?: string;
  changed: boolean;
  failed: boolean;
  delta?: unknown;
  errors?: { expression?: string[]; diagnostics?: string }[];
  output?: { entry: { resource: Record<string, unknown> }[] };
  deployedOutput?: unknown;
}

async function post(url: string, body: unknown, bearer = analyst): Promise<Reply> {
  const res = await fetch(`${base}${url}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const resultsOf = (r: Reply): Result[] => r.body['results'] as Result[];

/** The edits tried below. */
const inactive = (): string => patientYaml.replace('active: { value: true }', 'active: { value: false }');
const commentOnly = (): string => `${patientYaml}\n# an analyst's note: no change to any output\n`;
/** Valid, but a Patient id from PID-19, which these messages leave empty: mapping fails. */
const failing = (): string =>
  patientYaml.replace('- { from: PID-3.1, required: true }', '- { from: PID-19, required: true }');

/** Everything a dry run must leave alone. */
async function storeSnapshot(): Promise<string> {
  const parts = await Promise.all([
    engine.db.query(
      `SELECT id::text, status, mapping_version, output, processed_at, process_count FROM messages ORDER BY id`,
    ),
    engine.db.query(`SELECT count(*)::int AS n FROM fhir_resources`),
    engine.db.query(`SELECT count(*)::int AS n FROM fhir_resource_history`),
    engine.db.query(`SELECT count(*)::int AS n FROM outbox`),
    engine.db.query(`SELECT count(*)::int AS n FROM notifications`),
    engine.db.query(`SELECT count(*)::int AS n FROM mapping_versions`),
  ]);
  return JSON.stringify(parts);
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'mapping-dry-run-'));
  dir = path.join(root, 'mappings');
  cpSync('mappings', dir, { recursive: true });
  patientYaml = readFileSync(path.join(dir, PATIENT), 'utf8');
  client = await createSystemClient('system/*.rs system/Mapping.rs');
  engine = await startTestEngine({
    env: { MAPPINGS_DIR: dir, SMART_CLIENTS_FILE: client.clientsFile, DEFAULT_TIMEZONE: 'America/Denver' },
  });
  base = engine.config.http.publicUrl;
  analyst = await client.token(base, 'system/Mapping.rs system/Message.rs');
  mappingOnly = await client.token(base, 'system/Mapping.rs');
  const mllp = await MllpTestClient.connect(engine.mllpPort);
  for (let i = 1; i <= 3; i++) {
    expect(
      (await mllp.send(adtMessage({ controlId: `DRY-${i}`, facility: SENDER, mrn: `DR${i}` }))).code,
    ).toBe('AA');
  }
  expect(
    (await mllp.send(adtMessage({ controlId: 'OTHER-1', facility: 'ELSEWHERE', mrn: 'EL1' }))).code,
  ).toBe('AA');
  mllp.close();
  await waitFor(
    async () => (await engine.db.query(`SELECT 1 FROM messages WHERE status = 'received'`)).length === 0,
  );
  const rows = await engine.db.query<{ id: string }>(
    `SELECT id::text AS id FROM messages WHERE sending_facility = $1 ORDER BY id`,
    [SENDER],
  );
  ids.push(...rows.map((r) => r.id));
  expect(ids).toHaveLength(3);
});
afterAll(async () => {
  await engine.destroy();
  rmSync(root, { recursive: true, force: true });
});

describe('mapping dry run', () => {
  it('reports a change that alters output, with a delta and both Bundles, storing nothing', async () => {
    const before = await storeSnapshot();
    const r = await post('/api/mappings/dry-run', { files: { [PATIENT]: inactive() }, messages: { ids } });
    expect(r.status).toBe(200);
    expect(r.body['summary']).toEqual({ changed: 3, unchanged: 0, failed: 0 });
    const results = resultsOf(r);
    expect(results.map((x) => x.id)).toEqual(ids);
    expect(results.map((x) => x.controlId)).toEqual(['DRY-1', 'DRY-2', 'DRY-3']);
    for (const x of results) {
      expect(x.changed).toBe(true);
      // jsondiffpatch: the Patient entry's `active` went from true to false, and nothing else.
      expect(JSON.stringify(x.delta)).toContain('"active":[true,false]');
      const patient = x.output?.entry.map((e) => e.resource).find((e) => e['resourceType'] === 'Patient');
      expect(patient?.['active']).toBe(false);
      expect(x.deployedOutput).toBeDefined();
    }
    expect(await storeSnapshot()).toBe(before);
    expect(readFileSync(path.join(dir, PATIENT), 'utf8')).toBe(patientYaml);
  });

  it("takes a sender's latest N (MSH-4 or MSH-3^MSH-4), and a change that alters nothing is unchanged", async () => {
    const r = await post('/api/mappings/dry-run', {
      files: { [PATIENT]: commentOnly() },
      messages: { sender: SENDER, last: 2 },
    });
    expect(r.status).toBe(200);
    expect(r.body['summary']).toEqual({ changed: 0, unchanged: 2, failed: 0 });
    // Newest first.
    expect(resultsOf(r).map((x) => x.id)).toEqual([ids[2], ids[1]]);
    expect(resultsOf(r).every((x) => !x.changed && x.delta === undefined)).toBe(true);
    const both = await post('/api/mappings/dry-run', {
      files: { [PATIENT]: inactive() },
      messages: { sender: `EPIC^${SENDER}`, last: 100 },
    });
    expect(both.body['summary']).toEqual({ changed: 3, unchanged: 0, failed: 0 });
  });

  it('counts a mapping that fails, with the HL7 location and rule of each failure', async () => {
    const r = await post('/api/mappings/dry-run', { files: { [PATIENT]: failing() }, messages: { ids } });
    expect(r.status).toBe(200);
    expect(r.body['summary']).toEqual({ changed: 0, unchanged: 0, failed: 3 });
    for (const x of resultsOf(r)) {
      expect(x.failed).toBe(true);
      const expression = x.errors?.[0]?.expression ?? [];
      expect(expression).toContain('PID-19');
      expect(expression.join(' ')).toMatch(/patient/);
    }
  });

  it('maps a pasted message (newline separators) and reports ids that are not archived', async () => {
    const pasted = adtMessage({ controlId: 'PASTED-1', facility: SENDER, mrn: 'PASTE1' }).replaceAll(
      '\r',
      '\n',
    );
    const r = await post('/api/mappings/dry-run', {
      files: { [PATIENT]: inactive() },
      messages: { hl7: pasted },
    });
    expect(r.status).toBe(200);
    expect(r.body['summary']).toEqual({ changed: 1, unchanged: 0, failed: 0 });
    const [only] = resultsOf(r);
    expect(only?.id).toBeUndefined();
    expect(only?.output?.entry.some((e) => e.resource['resourceType'] === 'Encounter')).toBe(true);
    // Nothing of the pasted message was archived.
    expect(await engine.db.query(`SELECT 1 FROM messages WHERE control_id = 'PASTED-1'`)).toHaveLength(0);

    const missing = await post('/api/mappings/dry-run', { messages: { ids: [ids[0], '999999999'] } });
    expect(missing.body['summary']).toEqual({ changed: 0, unchanged: 1, failed: 1 });
    expect(resultsOf(missing)[1]).toMatchObject({ id: '999999999', failed: true });
  });

  it("reads times without an offset in DEFAULT_TIMEZONE, or in a candidate sender.yaml's zone", async () => {
    const local = adtMessage({ controlId: 'LOCAL-1', facility: SENDER, mrn: 'LOC1' }).replaceAll('-0500', '');
    const provenanceOf = (r: Reply): Record<string, unknown> | undefined =>
      resultsOf(r)[0]
        ?.output?.entry.map((e) => e.resource)
        .find((e) => e['resourceType'] === 'Provenance');
    const deployed = await post('/api/mappings/dry-run', { messages: { hl7: local } });
    expect(provenanceOf(deployed)).toMatchObject({
      occurredDateTime: '2026-11-25T08:00:00-07:00',
      extension: [{ url: 'urn:care:fhir:assumed-timezone', valueString: 'America/Denver' }],
    });
    const zoned = await post('/api/mappings/dry-run', {
      files: { [`senders/${SENDER}/sender.yaml`]: 'timezone: America/New_York\n' },
      messages: { hl7: local },
    });
    expect(zoned.body['summary']).toEqual({ changed: 1, unchanged: 0, failed: 0 });
    expect(provenanceOf(zoned)).toMatchObject({
      occurredDateTime: '2026-11-25T08:00:00-05:00',
      extension: [{ url: 'urn:care:fhir:assumed-timezone', valueString: 'America/New_York' }],
    });
    const unknown = await post('/api/mappings/dry-run', {
      files: { [`senders/${SENDER}/sender.yaml`]: 'description: x\ntimezone: America/Springfield\n' },
      messages: { hl7: local },
    });
    expect(unknown.status).toBe(422);
    const issues = unknown.body['issue'] as { location: string[]; diagnostics: string }[];
    expect(issues.map((i) => [i.location[0], i.diagnostics])).toEqual([
      [
        `senders/${SENDER}/sender.yaml:2`,
        expect.stringContaining('"America/Springfield" is not an IANA time zone'),
      ],
    ]);
  });

  it('refuses an invalid candidate (422, file and line) and bad requests (400)', async () => {
    const bad = await post('/api/mappings/dry-run', {
      files: { [PATIENT]: patientYaml.replace('active: { value: true }', 'activ: { value: true }') },
      messages: { ids },
    });
    expect(bad.status).toBe(422);
    const issues = bad.body['issue'] as { location: string[] }[];
    const line = patientYaml.split('\n').findIndex((l) => l.includes('active: { value: true }')) + 1;
    expect(issues.map((i) => i.location[0])).toContain(`${PATIENT}:${line}`);
    for (const body of [
      { messages: { sender: SENDER, last: 10_001 } },
      { messages: { ids: Array.from({ length: 10_001 }, (_v, i) => String(i + 1)) } },
      { messages: { ids: ['0'] } },
      { messages: {} },
      { files: { '../outside.yaml': 'x: 1' }, messages: { ids } },
      { files: { 'tests/adt-a01.fhir.json': '{}' }, messages: { ids } },
    ]) {
      expect((await post('/api/mappings/dry-run', body)).status, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
  });

  it('needs Message.r for archived messages (PHI), not for a pasted one; audits each run once', async () => {
    const audited = async (): Promise<number> =>
      (
        await engine.db.query(
          `SELECT 1 FROM audit_events WHERE resource_type = 'Mapping' AND action = 'operation' AND outcome = 'success'`,
        )
      ).length;
    const auditedBefore = await audited();
    expect((await post('/api/mappings/dry-run', { messages: { ids } }, mappingOnly)).status).toBe(403);
    const pasted = adtMessage({ controlId: 'PASTED-2', mrn: 'PASTE2' });
    expect((await post('/api/mappings/dry-run', { messages: { hl7: pasted } }, mappingOnly)).status).toBe(
      200,
    );
    expect((await post('/api/mappings/dry-run', { messages: { sender: SENDER, last: 3 } })).status).toBe(200);
    expect(await audited()).toBe(auditedBefore + 2);
    const none = await client.token(base, 'system/Message.rs');
    expect((await post('/api/mappings/dry-run', { messages: { hl7: pasted } }, none)).status).toBe(403);
  });
});

describe('golden tests over the API', () => {
  it('pass on the deployed set and fail on an edit that changes their output', async () => {
    const pass = await post('/api/mappings/test', {});
    expect(pass.status).toBe(200);
    const summary = pass.body['summary'] as { passed: number; failed: number };
    expect(summary.failed).toBe(0);
    expect(summary.passed).toBeGreaterThan(10);

    const fail = await post('/api/mappings/test', { files: { [PATIENT]: inactive() } });
    expect(fail.status).toBe(200);
    const results = fail.body['results'] as { name: string; status: string; differences: string[] }[];
    const failed = results.filter((r) => r.status === 'fail');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.find((r) => r.name === 'adt-a01')?.differences.join('\n')).toMatch(/active/);
    expect((fail.body['summary'] as { failed: number }).failed).toBe(failed.length);
    expect((await post('/api/mappings/test', { files: { [PATIENT]: 'x: [' } })).status).toBe(422);
  });
});
