/**
 * Analysts edit mappings while the engine runs: a valid change is picked up without a restart, an
 * invalid one is refused (the last good set keeps running), and each message records the version
 * of the mappings that processed it.
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let dir: string;
let engine: TestEngine;
let mllp: MllpTestClient;
let seq = 0;

async function versionOfNextMessage(): Promise<{ status: string; version: string | null }> {
  const controlId = `RELOAD-${++seq}`;
  expect((await mllp.send(adtMessage({ controlId, mrn: `R${seq}` }))).code).toBe('AA');
  let row: { status: string; mapping_version: string | null } | undefined;
  await waitFor(async () => {
    [row] = await engine.db.query<{ status: string; mapping_version: string | null }>(
      `SELECT status, mapping_version FROM messages WHERE control_id = $1 AND status <> 'received'`,
      [controlId],
    );
    return row !== undefined;
  });
  return { status: row!.status, version: row!.mapping_version };
}

beforeAll(async () => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'reload-')), 'mappings');
  cpSync('mappings', dir, { recursive: true });
  engine = await startTestEngine({ env: { MAPPINGS_DIR: dir } });
  mllp = await MllpTestClient.connect(engine.mllpPort);
});
afterAll(async () => {
  mllp.close();
  await engine.destroy();
  rmSync(path.dirname(dir), { recursive: true, force: true });
});

describe('mapping hot reload', () => {
  it('keeps the last good set when an edit is invalid, and picks up a valid edit without restart', async () => {
    const first = await versionOfNextMessage();
    expect(first.status).toBe('processed');
    expect(first.version).toMatch(/^[0-9a-f]{16}$/);

    writeFileSync(path.join(dir, 'broken.yaml'), 'messageType: ADT\nevents: [A01\nresources: nope\n');
    await new Promise((r) => setTimeout(r, 1_000));
    const during = await versionOfNextMessage();
    expect(during).toEqual({ status: 'processed', version: first.version });

    rmSync(path.join(dir, 'broken.yaml'));
    appendFileSync(path.join(dir, 'rules', 'patient.yaml'), '# an analyst note\n');
    let after = during;
    await waitFor(
      async () => {
        after = await versionOfNextMessage();
        return after.version !== first.version;
      },
      20_000,
      'the edited mappings to be used',
    );
    expect(after.status).toBe('processed');
  });
});
