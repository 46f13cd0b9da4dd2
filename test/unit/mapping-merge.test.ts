/**
 * `merge:` in mapping files: it travels to the store on each entry's request, a later layer
 * replaces one element's rule, and a typo in an element, a path or a code fails the load.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readMerges } from '../../engine/src/fhir/merge-directive';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { MappingLoadError } from '../../engine/src/mapping/mapping-error';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const mappingDir = (files: Record<string, string>): string => createMappingDir(files, dirs);

const ADT = (event: string): string =>
  [
    `MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||ADT^${event}|C1|P|2.5.1`,
    `EVN|${event}|20240305101200-0500`,
    'PID|1||A1^^^FAC^MR||Doe^Jane||19800214|F',
    'PV1|1|I|4W^401^B^FAC||||||||||||||||V1',
  ].join('\r');

function mergesOf(set: MappingSet, event: string, type: string): ReturnType<typeof readMerges> {
  const result = mapMessage(parseHl7(ADT(event)), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
  if (result.status !== 'mapped') throw new Error(result.reason);
  const entry = result.bundle.entry.find((e) => e.resource.resourceType === type);
  return readMerges(entry?.request);
}

const VISIT = `
resources:
  - name: encounter
    type: Encounter
    id: [PV1-19]
    merge:
      location: { by: location.reference, notSent: { status: completed } }
      participant: union
    elements:
      status: { value: in-progress }
      class: { value: { code: IMP } }
      location:
        from: PV1-3
        object:
          location: { value: { reference: Location/x } }
          status: { value: active }
`;

describe('merge: in a mapping', () => {
  it('puts each element rule on the request, and a later layer replaces one element', async () => {
    const set = await loadSet(
      mappingDir({
        'rules/visit.yaml': VISIT,
        'adt.yaml': 'messageType: ADT\nevents: [A01]\ninclude: [rules/visit.yaml]\n',
        'adt-a12.yaml': `messageType: ADT
events: [A12]
include: [rules/visit.yaml]
resources:
  - name: encounter
    mode: extend
    merge:
      location: { by: location.reference, keep: [period.start] }
`,
      }),
    );
    expect(mergesOf(set, 'A01', 'Encounter')).toEqual([
      { element: 'location', by: 'location.reference', notSent: { status: 'completed' } },
      { element: 'participant' },
    ]);
    expect(mergesOf(set, 'A12', 'Encounter')).toEqual([
      { element: 'location', by: 'location.reference', keep: ['period.start'] },
      { element: 'participant' },
    ]);
  });

  it('fails the load on an element that is no list, a path or a code the item type lacks', async () => {
    const bad = `messageType: ADT
events: [A01]
resources:
  - name: encounter
    type: Encounter
    id: [PV1-19]
    merge:
      status: union
      location: { by: location.ref, keep: [period.begin], notSent: { status: gone }, drop: { status: held, period: x } }
      colour: union
    elements:
      status: { value: in-progress }
`;
    const err = (await loadSet(mappingDir({ 'adt.yaml': bad })).catch((e: unknown) => e)) as MappingLoadError;
    const messages = err.problems.map((p) => `${p.line ?? ''} ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^8 merge: status is not a list/),
        expect.stringMatching(/^9 Reference has no element "ref"/),
        expect.stringMatching(/^9 Period has no element "begin"/),
        expect.stringMatching(/^9 notSent: "gone" is not a code of Encounter_Location.status/),
        expect.stringMatching(/^9 drop: "held" is not a code of Encounter_Location.status/),
        expect.stringMatching(/^9 drop: Encounter_Location.period is not a single primitive element/),
        expect.stringMatching(/^10 merge: Encounter has no element "colour"/),
      ]),
    );
  });

  it('is on the base visit mapping, with an A12 of its own', async () => {
    const set = await loadSet();
    expect(mergesOf(set, 'A02', 'Encounter')).toEqual([
      { element: 'location', by: 'location.reference', notSent: { status: 'completed' } },
    ]);
    expect(mergesOf(set, 'A12', 'Encounter')).toEqual([
      {
        element: 'location',
        by: 'location.reference',
        keep: ['period.start'],
        notSent: { status: 'completed' },
      },
    ]);
    // A cancel pending transfer removes the reserved location instead of completing it.
    expect(mergesOf(set, 'A26', 'Encounter')).toEqual([
      {
        element: 'location',
        by: 'location.reference',
        notSent: { status: 'completed' },
        drop: { status: 'reserved' },
      },
    ]);
  });
});
