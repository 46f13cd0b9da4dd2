/**
 * Telling a document from a result by its code, not its text: `inTable:` (a code listed in a
 * code table) and `some:` (a group of forEach levels meets a condition), and the base ORU mapping
 * that uses them: a discharge summary sent as TX lines, with or without a TXA, becomes one
 * DocumentReference while a lab comment stays an Observation.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { BundleEntry, MapResult } from '../../engine/src/mapping/map-message';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const HEADER = ['MSH|^~\\&|LAB|FAC|CARE|CARE|20240305101500-0500||ORU^R01|C1|P|2.5.1', 'PID|1||A1^^^FAC^MR'];

const LANGUAGE = `
messageType: ORU
events: [R01]
resources:
  - name: report
    type: DiagnosticReport
    forEach: [{ segment: OBR }]
    when: { some: { forEach: [{ segment: OBX }], when: { inTable: [OBX-3, doc-types] } } }
    id: [OBR-2]
    elements:
      status: { value: final }
      code: { from: OBR-4, type: CWE }
`;

const DOC_TYPES = 'code,system,target,display\nDS,http://loinc.org,18842-5,Discharge summary\n';

function map(set: MappingSet, segments: readonly string[]): MapResult {
  return mapMessage(parseHl7([...HEADER, ...segments].join('\r')), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
}

function byType(result: MapResult, type: string): BundleEntry['resource'][] {
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);
}

function text(doc: BundleEntry['resource'] | undefined): string {
  const content = doc?.['content'] as { attachment: { data?: string } }[] | undefined;
  return Buffer.from(content?.[0]?.attachment.data ?? '', 'base64').toString('utf8');
}

describe('inTable and some', () => {
  it('keeps an OBR only when some OBX of its own has a listed code, wherever that OBX is', async () => {
    const set = await loadSet(
      createMappingDir({ 'oru.yaml': LANGUAGE, 'codes/doc-types.csv': DOC_TYPES }, dirs),
    );
    const reports = byType(
      map(set, [
        'OBR|1|P1||X1^Labs',
        'OBX|1|NM|N1^Sodium||140',
        'OBX|2|TX|ds^Summary||Text',
        'OBR|2|P2||X2^More labs',
        'OBX|1|NM|N1^Sodium||141',
      ]),
      'DiagnosticReport',
    );
    // Listed case-insensitively, and found in the second OBX; the second order has none.
    expect(reports.map((r) => r['code'])).toEqual([{ coding: [{ code: 'X1', display: 'Labs' }] }]);
  });

  it('refuses a table that codes/ does not have, naming it', async () => {
    const dir = createMappingDir({ 'oru.yaml': LANGUAGE }, dirs);
    await expect(loadSet(dir)).rejects.toThrow(/no code table "doc-types"/);
  });
});

describe('documents in the base ORU mapping', () => {
  it('makes one DocumentReference of TX lines coded as a document, and no Observation of them', async () => {
    const result = map(await loadSet(), [
      'OBR|1|P1|F1|18842-5^Discharge summary^LN|||20240305090000-0500||||||||||||||||||F',
      'OBX|1|TX|18842-5^Discharge summary^LN|1|Admitted with pneumonia.||||||F',
      'OBX|2|TX|18842-5^Discharge summary^LN|1|Home on oral antibiotics.||||||F',
      'OBR|2|P2|F2|2951-2^Sodium^LN',
      'OBX|1|TX|48767-8^Annotation comment^LN||Haemolysed sample.||||||F',
    ]);
    const [doc, ...others] = byType(result, 'DocumentReference');
    expect(others).toEqual([]);
    expect(text(doc)).toBe('Admitted with pneumonia.\nHome on oral antibiotics.');
    expect(doc?.['docStatus']).toBe('final');
    expect((doc?.['type'] as { coding: { code: string }[] }).coding[0]?.code).toBe('18842-5');
    const report = byType(result, 'DiagnosticReport')[0];
    expect((doc?.['context'] as { related: unknown[] }).related).toContainEqual({
      reference: `DiagnosticReport/${report?.id ?? ''}`,
    });
    // The lab comment is no document: it stays the one Observation, with its text.
    expect(byType(result, 'Observation').map((o) => o['valueString'])).toEqual(['Haemolysed sample.']);
  });

  it('maps a TXA after an OBR with the OBX that follow it in that order only', async () => {
    const result = map(await loadSet(), [
      'OBR|1|P1|F1|18842-5^Discharge summary^LN',
      'TXA|1|18842-5^Discharge summary^LN|TX|||||||||DOC-1^FAC|||||AU||AV',
      'OBX|1|TX|DS^Summary^L|1|Line one.||||||F',
      'OBX|2|TX|DS^Summary^L|2|Line two.||||||F',
      'OBR|2|P2|F2|2951-2^Sodium^LN',
      'OBX|1|TX|48767-8^Annotation comment^LN||Not part of the summary.||||||F',
    ]);
    const docs = byType(result, 'DocumentReference');
    expect(docs).toHaveLength(1);
    expect(docs[0]?.['masterIdentifier']).toMatchObject({ value: 'DOC-1' });
    expect(text(docs[0])).toBe('Line one.\nLine two.');
    const [order] = byType(result, 'ServiceRequest');
    expect((docs[0]?.['context'] as { related: unknown[] }).related).toContainEqual({
      reference: `ServiceRequest/${order?.id ?? ''}`,
    });
    expect(byType(result, 'Observation').map((o) => o['valueString'])).toEqual(['Not part of the summary.']);
  });
});
