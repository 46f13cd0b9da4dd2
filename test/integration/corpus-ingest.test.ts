/**
 * Every public sample message is accepted with AA over real MLLP, and processing finishes with
 * none left unfinished or failed. Skips (with the reason) where ../shared is not present.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameMllp } from '../../engine/src/hl7/mllp-frame-reader';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const CORPUS = '../shared/corpus/fhir-converter';
const present = existsSync(CORPUS);
if (!present) {
  console.log(
    `corpus-ingest: skipped, ${CORPUS} is absent (it exists only beside the project's own checkout)`,
  );
}
const files = present
  ? readdirSync(CORPUS)
      .filter((f) => f.endsWith('.hl7'))
      .sort()
  : [];

describe.skipIf(!present)('sample corpus over MLLP', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine.destroy();
  });

  it(`accepts all ${files.length} files with AA and finishes processing every one`, async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    const acks = [];
    for (const f of files) {
      const ack = await client.send(readFileSync(`${CORPUS}/${f}`, 'utf8'));
      acks.push([f, ack.code]);
    }
    client.close();
    expect(acks.filter(([, code]) => code !== 'AA')).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(62);
    await waitFor(
      async () => (await engine.db.query(`SELECT 1 FROM messages WHERE status = 'received'`)).length === 0,
      60_000,
    );
    const failed = await engine.db.query(
      `SELECT control_id, error FROM messages WHERE status IN ('failed', 'rejected')`,
    );
    expect(failed).toEqual([]);
  });

  it('accepts the corpus again with every frame in one chunk', async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    client.write(Buffer.concat(files.map((f) => frameMllp(readFileSync(`${CORPUS}/${f}`)))));
    const acks = await client.waitForAcks(files.length, 30_000);
    client.close();
    expect(client.allAcks().every((a) => a.code === 'AA')).toBe(true);
    expect(acks).toHaveLength(1);
  });
});
