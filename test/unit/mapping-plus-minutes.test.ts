/**
 * `plusMinutes:` on a time rule: the time at `from:` plus the minutes at another location, as the
 * guide's PR1-5 + PR1-7 (procedure minutes) end of a performedPeriod. Nothing when the minutes are
 * missing or not a number, or when the time is not given to the minute, so the mapping's next
 * rule (the time alone) applies; a rule that adds minutes to anything but a time fails the load.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { mapMessage } from '../../engine/src/mapping/map-message';
import type { MappingLoadError } from '../../engine/src/mapping/mapping-error';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { createMappingDir, loadSet } from './mapping-test-support';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const adt = (pr1: readonly string[]): string =>
  [
    'MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||ADT^A01|C1|P|2.5.1',
    'EVN|A01|20240305101200-0500',
    'PID|1||A1^^^FAC^MR||Doe^Jane||19800214|F',
    ...pr1,
  ].join('\r');

const PROCEDURE = `
messageType: ADT
events: [A01]
eventTime: [{ from: EVN-2, type: DTM }]
resources:
  - name: procedure
    type: Procedure
    forEach: [{ segment: PR1 }]
    id: [PR1-1]
    elements:
      status: { value: unknown }
      subject: { value: { reference: Patient/p } }
      performed[x]:
        - as: performedPeriod
          object:
            start: { from: PR1-5, type: DTM }
            end: { from: PR1-5, type: DTM, plusMinutes: PR1-7, required: true }
        - { as: performedDateTime, from: PR1-5, type: DTM }
`;

function performed(set: MappingSet, pr1: readonly string[]): unknown[] {
  const result = mapMessage(parseHl7(adt(pr1)), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'America/Chicago',
  });
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'Procedure')
    .map((r) => r['performedPeriod'] ?? r['performedDateTime']);
}

describe('plusMinutes: on a time rule', () => {
  it('adds the minutes across midnight and keeps the offset; without them, or to the hour only, the time alone', async () => {
    const set = await loadSet(createMappingDir({ 'adt.yaml': PROCEDURE }, dirs));
    expect(
      performed(set, [
        'PR1|1||47562^Lap chole^C4||20240305231500-0500||95',
        'PR1|2||47562^Lap chole^C4||202403051015||45',
        'PR1|3||47562^Lap chole^C4||20240305101500-0500',
        'PR1|4||47562^Lap chole^C4||20240305-0500||30',
        'PR1|5||47562^Lap chole^C4||2024030510-0500||30',
        'PR1|6||47562^Lap chole^C4||20240305101500-0500||about an hour',
      ]),
    ).toEqual([
      { start: '2024-03-05T23:15:00-05:00', end: '2024-03-06T00:50:00-05:00' },
      // No offset sent: read in the zone (America/Chicago, CST), the end in the same offset.
      { start: '2024-03-05T10:15:00-06:00', end: '2024-03-05T11:00:00-06:00' },
      '2024-03-05T10:15:00-05:00',
      '2024-03-05',
      '2024-03-05T10:00:00-05:00',
      '2024-03-05T10:15:00-05:00',
    ]);
  });

  it('fails the load when the rule is not a time', async () => {
    const bad = PROCEDURE.replace(
      '      status: { value: unknown }',
      '      status: { value: unknown }\n      identifier: { from: PR1-19, type: EI, plusMinutes: PR1-7 }',
    );
    const err = (await loadSet(createMappingDir({ 'adt.yaml': bad }, dirs)).catch(
      (e: unknown) => e,
    )) as MappingLoadError;
    expect(err.problems.map((p) => `${p.line ?? ''} ${p.message}`)).toEqual([
      expect.stringMatching(
        /^12 plusMinutes: adds minutes to a time \(type: DTM into dateTime or instant\), not HL7 EI/,
      ),
    ]);
  });
});
