/**
 * Every public sample message is accepted with AA over real MLLP and processed: each of the 62
 * files becomes its own archive row, which ends `processed` when a mapping covers its type and
 * `ignored` when none does, never `failed` or `rejected`. The samples share control IDs (39 say
 * MSG00001), so each send rewrites MSH-10 to be unique in this run; without that the engine
 * would acknowledge most of them as duplicates and never process them. Skips (with the reason)
 * where ../shared is not present.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameMllp } from '../../engine/src/hl7/mllp-frame-reader';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const CORPUS = '../shared/corpus/fhir-converter';
const CORPUS_SIZE = 62;
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

/** The types README says are mapped; any other type (A41 among them, on purpose) is archived as `ignored`. */
const MAPPED = new Set([
  ...[
    ...['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07', 'A08', 'A09', 'A10', 'A11', 'A12', 'A13'],
    ...['A14', 'A15', 'A16', 'A25', 'A26', 'A27', 'A28', 'A29', 'A31', 'A40', 'A45', 'A47', 'A60'],
  ].map((e) => `ADT^${e}`),
  'ORU^R01',
]);

interface CorpusMessage {
  readonly file: string;
  /** The file's text as written (BOM and LF line ends included) except for MSH-10. */
  readonly text: string;
  readonly controlId: string;
  readonly expectedStatus: 'processed' | 'ignored';
}

/**
 * Replaces MSH-10 on the first line. The field separator is MSH-1 (the 4th character), and
 * split on it the MSH line has "MSH" at index 0 and MSH-2 at index 1, so MSH-10 is index 9.
 * Only the first line is touched: ADT04-23.hl7 carries `MSH|` inside a later field.
 */
function withControlId(text: string, controlId: string): { text: string; original: string; kind: string } {
  const start = text.startsWith('\uFEFF') ? 1 : 0;
  const lineEnd = text.slice(start).search(/[\r\n]/);
  const end = lineEnd < 0 ? text.length : start + lineEnd;
  const msh = text.slice(start, end);
  if (!msh.startsWith('MSH')) throw new Error(`no MSH segment at the start: ${msh.slice(0, 20)}`);
  const fieldSep = msh.charAt(3);
  const componentSep = msh.charAt(4);
  const fields = msh.split(fieldSep);
  const original = fields[9];
  if (original === undefined || original === '') throw new Error(`no MSH-10 in ${msh}`);
  const [type = '', event = ''] = (fields[8] ?? '').split(componentSep);
  fields[9] = controlId;
  return {
    text: text.slice(0, start) + fields.join(fieldSep) + text.slice(end),
    original,
    kind: `${type}^${event}`,
  };
}

/** The corpus with every MSH-10 made unique: `<original>-<tag>-<n>`. */
function loadCorpus(tag: string): CorpusMessage[] {
  return files.map((file, n) => {
    const written = readFileSync(`${CORPUS}/${file}`, 'utf8');
    const probe = withControlId(written, '');
    const controlId = `${probe.original}-${tag}-${n}`;
    const { text } = withControlId(written, controlId);
    return { file, text, controlId, expectedStatus: MAPPED.has(probe.kind) ? 'processed' : 'ignored' };
  });
}

interface Row {
  id: string;
  control_id: string;
  status: string;
  error: unknown;
  duplicates: number;
}

describe.skipIf(!present)('sample corpus over MLLP', () => {
  let engine: TestEngine;
  const runId = randomUUID().slice(0, 8);

  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine.destroy();
  });

  const rowsFor = (messages: readonly CorpusMessage[]): Promise<Row[]> =>
    engine.db.query<Row>(
      `SELECT id::text AS id, control_id, status, error, duplicates FROM messages WHERE control_id = ANY($1)`,
      [messages.map((m) => m.controlId)],
    );

  const countRows = async (): Promise<number> => {
    const [row] = await engine.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM messages`);
    return Number(row?.n);
  };

  /**
   * Waits until none of the messages' rows is `received`, then checks each file's final status.
   * A wait that runs out falls through to the checks, so a failure names the files still unfinished.
   */
  async function expectAllFinished(messages: readonly CorpusMessage[]): Promise<void> {
    await waitFor(
      async () => (await rowsFor(messages)).every((r) => r.status !== 'received'),
      45_000,
      `all ${messages.length} corpus messages to finish processing`,
    ).catch(() => undefined);
    const rows = await rowsFor(messages);
    expect(new Set(rows.map((r) => r.id)).size).toBe(CORPUS_SIZE);
    expect(rows.filter((r) => r.status === 'failed' || r.status === 'rejected')).toEqual([]);
    const byControlId = new Map(rows.map((r) => [r.control_id, r]));
    const actual = Object.fromEntries(messages.map((m) => [m.file, byControlId.get(m.controlId)?.status]));
    const expected = Object.fromEntries(messages.map((m) => [m.file, m.expectedStatus]));
    expect(actual).toEqual(expected);
    // Unique control IDs: no file was taken for a resend of another.
    expect(rows.filter((r) => r.duplicates !== 0)).toEqual([]);
  }

  it(`accepts all ${CORPUS_SIZE} files with AA, one by one, and processes every one`, async () => {
    expect(files).toHaveLength(CORPUS_SIZE);
    const messages = loadCorpus(`${runId}a`);
    expect(new Set(messages.map((m) => m.controlId)).size).toBe(CORPUS_SIZE);
    // The corpus holds both outcomes, so the status check below tells them apart.
    expect(messages.filter((m) => m.expectedStatus === 'processed').length).toBeGreaterThan(0);
    expect(messages.filter((m) => m.expectedStatus === 'ignored').length).toBeGreaterThan(0);

    const client = await MllpTestClient.connect(engine.mllpPort);
    const acks: [string, string | undefined, string | undefined][] = [];
    for (const m of messages) {
      const ack = await client.send(m.text);
      acks.push([m.file, ack.code, ack.controlId]);
    }
    client.close();
    expect(acks).toEqual(messages.map((m) => [m.file, 'AA', m.controlId]));
    await expectAllFinished(messages);
  }, 90_000);

  it(`accepts all ${CORPUS_SIZE} files sent in one TCP chunk and processes every one`, async () => {
    const messages = loadCorpus(`${runId}b`);
    const before = await countRows();
    const client = await MllpTestClient.connect(engine.mllpPort);
    client.write(Buffer.concat(messages.map((m) => frameMllp(m.text))));
    await client.waitForAcks(messages.length, 30_000);
    client.close();
    // One ACK per frame, in the order sent, each echoing its message's MSH-10.
    expect(client.allAcks().map((a) => [a.code, a.controlId])).toEqual(
      messages.map((m) => ['AA', m.controlId]),
    );
    await expectAllFinished(messages);
    // Exactly one new row per frame: none was merged into another or archived twice.
    expect((await countRows()) - before).toBe(CORPUS_SIZE);
  }, 90_000);
});
