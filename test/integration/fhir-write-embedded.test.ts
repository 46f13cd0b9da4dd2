/**
 * Registration writes on the embedded store (PGlite, one connection): the write and its audit
 * row commit together in one transaction, instead of the audit waiting on the write's own
 * connection for ever.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../engine/src/config/schema';
import { startEngine, type RunningEngine } from '../../engine/src/engine';
import { createSystemClient } from '../helpers/system-client';
import { TEST_REDIS_URL, uniqueName } from '../helpers/test-db';
import { freePort, obliterateQueue } from '../helpers/test-engine';

const dir = mkdtempSync(join(tmpdir(), 'care-embedded-'));
const prefix = uniqueName('q');
let engine: RunningEngine | undefined;

afterAll(async () => {
  await engine?.stop();
  await obliterateQueue(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('FHIR writes on the embedded store', () => {
  it('creates a registration resource and audits it in the same transaction', async () => {
    const client = await createSystemClient('system/Organization.cud system/*.rs');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    engine = await startEngine({
      config: loadConfig({
        DATA_DIR: dir,
        MLLP_PORT: '0',
        MLLP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        PUBLIC_URL: base,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        SMART_CLIENTS_FILE: client.clientsFile,
        MAPPINGS_DIR: './mappings',
        LOG_LEVEL: 'silent',
      }),
    });
    expect(engine.db.kind).toBe('pglite');
    const token = await client.token(base, 'system/Organization.cud system/*.rs');
    const res = await fetch(`${base}/fhir/Organization`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Organization', name: 'Lakeside Family Medicine' }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const audits = await engine.db.query<{ action: string }>(
      `SELECT action FROM audit_events WHERE resource_type = 'Organization' AND resource_id = $1`,
      [id],
    );
    expect(audits.map((a) => a.action)).toEqual(['create']);
  }, 60_000);
});
