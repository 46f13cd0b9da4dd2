/**
 * The language features results and documents need: an OBR group that owns the ORC before it
 * (`leading:`), references to resources elsewhere in an enclosing group (`ref ... within:`), a
 * repeated value (`repeats:`), and text read across groups and joined into a base64 attachment.
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

const ORU = [
  'MSH|^~\\&|LAB|FAC|CARE|CARE|20240305101500-0500||ORU^R01|C1|P|2.5.1',
  'PID|1||A1^^^FAC^MR',
  'ORC|RE|P1||||||||||11^First^Ann',
  'OBR|1|P1||X1^Panel one',
  'OBX|1|TX|T1^Text||Line one~Line two',
  'OBX|2|CWE|C1^Organisms||a^Alpha~b^Beta',
  'OBX|3|ED|E1^Report||^AP^PDF^Base64^JVBERg==',
  'OBX|4|TX|T1^Text|2|Line three',
  'SPM|1|S1||BLD^Blood',
  'OBR|2|P2||X2^Panel two',
  'OBX|1|CWE|C1^Organisms||c^Gamma',
  'SPM|1|S2||UR^Urine',
].join('\r');

const MAPPING = `
messageType: ORU
events: [R01]
resources:
  - name: order
    type: ServiceRequest
    forEach: [{ segment: OBR, leading: [ORC] }]
    id: [OBR-2]
    elements:
      status: { value: active }
      intent: { value: order }
      requester: { ref: doctor, from: ORC-12 }
  - name: doctor
    type: Practitioner
    forEach: [{ field: ORC-12 }]
    id: [$.1]
  - name: specimen
    type: Specimen
    forEach: [{ segment: OBR }, { segment: SPM }]
    id: [OBR-2, SPM-2]
  - name: result
    type: Observation
    forEach: [{ segment: OBR }, { segment: OBX }]
    id: [OBR-2, OBX-1]
    elements:
      status: { value: final }
      code: { from: OBX-3, type: CWE }
      specimen: { ref: specimen, within: OBR }
      value[x]:
        - { as: valueCodeableConcept, when: { not: { repeats: OBX-5 } }, from: OBX-5, type: CWE }
      component:
        from: OBX-5
        when: { repeats: OBX-5 }
        object:
          code: { from: OBX-3, type: CWE }
          value[x]: { as: valueCodeableConcept, from: $, type: CWE }
  - name: document
    type: DocumentReference
    forEach: [{ segment: OBR }]
    id: [OBR-2]
    elements:
      status: { value: current }
      content:
        object:
          attachment:
            object:
              contentType: { value: text/plain }
              data:
                forEach: [{ segment: OBX }]
                when: { equals: [OBX-2, TX] }
                from: OBX-5
                join: "\\n"
`;

async function mappingSet(): Promise<MappingSet> {
  return loadSet(createMappingDir({ 'oru.yaml': MAPPING }, dirs));
}

function map(set: MappingSet): MapResult {
  return mapMessage(parseHl7(ORU), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
}

function byType(result: MapResult, type: string): BundleEntry['resource'][] {
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);
}

describe('result and document groups', () => {
  it('reads the ORC that leads an OBR in that OBR group only', async () => {
    const result = map(await mappingSet());
    const doctor = byType(result, 'Practitioner')[0];
    const [first, second] = byType(result, 'ServiceRequest');
    expect(first?.['requester']).toEqual({ reference: `Practitioner/${doctor?.id ?? ''}` });
    // The second order has no ORC of its own: it must not borrow the first one's.
    expect(second?.['requester']).toBeUndefined();
  });

  it('references the specimen of the enclosing OBR from each of its OBX', async () => {
    const result = map(await mappingSet());
    const specimens = byType(result, 'Specimen').map((s) => `Specimen/${s.id}`);
    const observations = byType(result, 'Observation');
    expect(observations.slice(0, 4).map((o) => o['specimen'])).toEqual(
      Array(4).fill({ reference: specimens[0] }),
    );
    expect(observations[4]?.['specimen']).toEqual({ reference: specimens[1] });
  });

  it('fills components from a repeated OBX-5 and value[x] from a single one', async () => {
    const observations = byType(map(await mappingSet()), 'Observation');
    const repeated = observations[1];
    expect(repeated?.['valueCodeableConcept']).toBeUndefined();
    expect(repeated?.['component']).toEqual([
      {
        code: { coding: [{ code: 'C1', display: 'Organisms' }] },
        valueCodeableConcept: { coding: [{ code: 'a', display: 'Alpha' }] },
      },
      {
        code: { coding: [{ code: 'C1', display: 'Organisms' }] },
        valueCodeableConcept: { coding: [{ code: 'b', display: 'Beta' }] },
      },
    ]);
    expect(observations[4]?.['component']).toBeUndefined();
    expect(observations[4]?.['valueCodeableConcept']).toEqual({ coding: [{ code: 'c', display: 'Gamma' }] });
  });

  it('joins the text of the TX OBX only, then encodes it once as base64', async () => {
    const [doc] = byType(map(await mappingSet()), 'DocumentReference');
    const content = doc?.['content'] as { attachment: { data: string; contentType: string } }[];
    const data = content[0]?.attachment.data ?? '';
    expect(Buffer.from(data, 'base64').toString('utf8')).toBe('Line one\nLine two\nLine three');
  });
});
