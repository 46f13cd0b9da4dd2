/**
 * Segments before a group's head (`leading:`, `openedBy:`): v2.9's ORC [{PRT}] [OBX [{PRT}] TXA]
 * OBR, where the order's ORC and its document come before the OBR. A group reaches back to its
 * opener, the earlier group ends there, a nested group found before the head ends at it, and a
 * run after an earlier group's head stays that group's.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { MapResult } from '../../engine/src/mapping/map-message';
import { isMappingLoadError } from '../../engine/src/mapping/mapping-error';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const MAPPING = `
messageType: ORU
events: [R01]
resources:
  - name: order
    type: ServiceRequest
    forEach: [{ segment: OBR, leading: [ORC, PRT, OBX, TXA], openedBy: ORC }]
    id: [OBR-2]
    elements:
      status: { value: active }
      intent: { value: order }
      subject: { object: { display: ORC-2 } }
      note:
        forEach: [{ segment: OBX }]
        object: { text: OBX-5 }
  - name: document
    type: DocumentReference
    forEach:
      - { segment: OBR, leading: [ORC, PRT, OBX, TXA], openedBy: ORC }
      - { segment: TXA, leading: [OBX, PRT] }
    covers: OBX
    id: [TXA-12]
    elements:
      status: { value: current }
      description: OBR-2
      content:
        forEach: [{ segment: OBX }]
        object: { attachment: { object: { title: OBX-5 } } }
  - name: result
    type: Observation
    forEach: [{ segment: OBR, until: [ORC] }, { segment: OBX }]
    covers: OBX
    id: [OBR-2, OBX-1]
    elements:
      status: { value: final }
      code: { value: { text: result } }
      valueString: OBX-5
`;

function map(set: Awaited<ReturnType<typeof loadSet>>, segments: string[]): MapResult {
  const text = ['MSH|^~\\&|LAB|FAC|CARE|CARE|20240305101500-0500||ORU^R01|C1|P|2.9', 'PID|1||A1^^^FAC^MR']
    .concat(segments)
    .join('\r');
  return mapMessage(parseHl7(text), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
}

function resources(result: MapResult, type: string): Record<string, unknown>[] {
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);
}

const texts = (
  r: Record<string, unknown> | undefined,
  key: string,
  inner: (x: never) => unknown,
): unknown[] => ((r?.[key] as never[] | undefined) ?? []).map(inner);

describe('leading segments reaching back to an opener', () => {
  const V29 = [
    'ORC|RE|O1',
    'OBR|1|P1',
    'OBX|1|ST|R||result one',
    'ORC|RE|O2',
    'PRT|1|AD||OP',
    'OBX|1|ST|D||document two',
    'PRT|2|AD||RO',
    'TXA|1|DS||||||||||DOC2',
    'OBR|2|P2',
    'OBX|1|ST|R||result two',
  ];

  it('gives an order the ORC before its PRT and document, and ends the earlier order there', async () => {
    const set = await loadSet(createMappingDir({ 'oru.yaml': MAPPING }, dirs));
    const result = map(set, V29);
    const [first, second] = resources(result, 'ServiceRequest');
    expect(first?.['subject']).toEqual({ display: 'O1' });
    expect(second?.['subject']).toEqual({ display: 'O2' });
    // A nested level looks into the leading segments too: the second order's document OBX.
    expect(texts(second, 'note', (n: { text: string }) => n.text)).toEqual(['document two', 'result two']);
    // The first order ends at the second one's ORC: its OBX are its own result only.
    expect(texts(first, 'note', (n: { text: string }) => n.text)).toEqual(['result one']);
  });

  it('maps a TXA before its OBR with the OBX before it, ending at the OBR, and accounts for that OBX', async () => {
    const set = await loadSet(createMappingDir({ 'oru.yaml': MAPPING }, dirs));
    const result = map(set, V29);
    const [doc] = resources(result, 'DocumentReference');
    expect(doc?.['description']).toBe('P2');
    expect(texts(doc, 'content', (c: { attachment: { title: string } }) => c.attachment.title)).toEqual([
      'document two',
    ]);
    expect(resources(result, 'Observation').map((o) => o['valueString'])).toEqual([
      'result one',
      'result two',
    ]);
    if (result.status !== 'mapped') throw new Error(result.reason);
    expect(result.warnings.map((w) => w.diagnostics).filter((d) => /OBX|TXA/.test(d ?? ''))).toEqual([]);
  });

  it('takes nothing before an OBR whose run reaches no ORC, and an opener only up to the nearest', async () => {
    const set = await loadSet(createMappingDir({ 'oru.yaml': MAPPING }, dirs));
    const result = map(set, ['ORC|RE|O1', 'OBR|1|P1', 'OBX|1|ST|R||one', 'OBR|2|P2', 'OBX|1|ST|R||two']);
    const [first, second] = resources(result, 'ServiceRequest');
    expect(first?.['subject']).toEqual({ display: 'O1' });
    // The first order's OBX lie before the second OBR, but no ORC opens it: it borrows nothing.
    expect(second?.['subject']).toBeUndefined();
    expect(texts(second, 'note', (n: { text: string }) => n.text)).toEqual(['two']);
  });

  it('leaves what follows an earlier TXA to that document (a nested run never takes it)', async () => {
    const set = await loadSet(createMappingDir({ 'oru.yaml': MAPPING }, dirs));
    const result = map(set, [
      'ORC|RE|O1',
      'OBR|1|P1',
      'TXA|1|DS||||||||||DOC1',
      'OBX|1|ST|D||line one',
      'OBX|2|ST|D||line two',
      'TXA|2|DS||||||||||DOC2',
      'OBX|1|ST|D||other',
    ]);
    const titles = resources(result, 'DocumentReference').map((d) =>
      texts(d, 'content', (c: { attachment: { title: string } }) => c.attachment.title),
    );
    expect(titles).toEqual([['line one', 'line two'], ['other']]);
  });

  it('refuses an openedBy that is not one of the leading segments', async () => {
    const bad = MAPPING.replace(
      'leading: [ORC, PRT, OBX, TXA], openedBy: ORC }]',
      'leading: [PRT], openedBy: ORC }]',
    );
    const err: unknown = await loadSet(createMappingDir({ 'oru.yaml': bad }, dirs)).catch((e: unknown) => e);
    if (!isMappingLoadError(err)) throw new Error('the set loaded');
    expect(err.problems.map((p) => p.message)).toContain(
      "openedBy: ORC must be one of the level's leading: segments",
    );
  });
});
