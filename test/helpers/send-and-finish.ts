/**
 * Sends one message over MLLP, expects AA, and waits until the engine has finished with it (any
 * archive status but `received`): the step most integration tests repeat before reading FHIR.
 */
import { expect } from 'vitest';
import type { MllpTestClient } from './mllp-test-client';
import { waitFor, type TestEngine } from './test-engine';

/** The archive row of a message processing has finished with. */
export interface FinishedMessage {
  readonly id: string;
  readonly status: string;
  readonly error: unknown;
  readonly mappingVersion: string | null;
}

export async function sendAndFinish(
  engine: TestEngine,
  mllp: MllpTestClient,
  text: string,
): Promise<FinishedMessage> {
  const ack = await mllp.send(text);
  expect(ack.code).toBe('AA');
  let row: FinishedMessage | undefined;
  await waitFor(async () => {
    [row] = await engine.db.query<FinishedMessage>(
      `SELECT id::text AS id, status, error, mapping_version AS "mappingVersion"
         FROM messages WHERE control_id = $1 AND status <> 'received'`,
      [ack.controlId],
    );
    return row !== undefined;
  });
  if (row === undefined) throw new Error(`message ${ack.controlId} was never finished`);
  return row;
}

/** sendAndFinish, expecting the message `processed`. */
export async function sendProcessed(engine: TestEngine, mllp: MllpTestClient, text: string): Promise<void> {
  expect((await sendAndFinish(engine, mllp, text)).status).toBe('processed');
}
