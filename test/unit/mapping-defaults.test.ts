/**
 * `defaults:` on a rule: elements set on each converted value that lacks them, so a field's
 * meaning (PID-13 is the home phone) fills what its datatype left open, and what the value itself
 * says (XTN-2) still wins. A default the converted type cannot hold fails the load.
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

const ADT = [
  'MSH|^~\\&|APP|FAC|CARE|CARE|20240305101500-0500||ADT^A01|C1|P|2.5.1',
  'EVN|A01|20240305101200-0500',
  'PID|1||A1^^^FAC^MR||Doe^Jane||19800214|F|||||^^PH^^1^217^5550100~^PRS^CP^^1^217^5550142~^NET^Internet^jane@example.com|^^PH^^1^217^5550199',
].join('\r');

const patient = (telecom: string): string => `
messageType: ADT
events: [A01]
eventTime: [{ from: EVN-2, type: DTM }]
resources:
  - name: patient
    type: Patient
    id: [PID-3.1]
    elements:
      telecom:
${telecom}
`;

function telecomOf(set: MappingSet): unknown {
  const result = mapMessage(parseHl7(ADT), set, {
    messageId: 'm1',
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
  if (result.status !== 'mapped') throw new Error(result.reason);
  return result.bundle.entry.find((e) => e.resource.resourceType === 'Patient')?.resource['telecom'];
}

async function loadErrors(telecom: string): Promise<string[]> {
  const dir = createMappingDir({ 'adt.yaml': patient(telecom) }, dirs);
  const err = (await loadSet(dir).catch((e: unknown) => e)) as MappingLoadError;
  return err.problems.map((p) => `${p.line ?? ''} ${p.message}`);
}

describe('defaults: on a rule', () => {
  it('fills an element each converted value lacks, and a value that has it keeps its own', async () => {
    const dir = createMappingDir(
      {
        'adt.yaml': patient(`        - { from: PID-13, type: XTN, defaults: { use: home } }
        - { from: PID-14, type: XTN, defaults: { use: work } }`),
      },
      dirs,
    );
    expect(telecomOf(await loadSet(dir))).toEqual([
      { system: 'phone', value: '+1 (217) 5550100', use: 'home' },
      // XTN-3 CP (codes/v2-0202.csv): the value says mobile, which the field's default does not override.
      { system: 'phone', value: '+1 (217) 5550142', use: 'mobile' },
      { system: 'email', value: 'jane@example.com', use: 'home' },
      { system: 'phone', value: '+1 (217) 5550199', use: 'work' },
    ]);
  });

  it('with defaultsWhen, completes only the values the condition holds for, $ being each value', async () => {
    const dir = createMappingDir(
      {
        'adt.yaml': patient(
          '        - { from: PID-13, type: XTN, defaults: { use: home }, defaultsWhen: { missing: $.2 } }',
        ),
      },
      dirs,
    );
    expect(telecomOf(await loadSet(dir))).toEqual([
      { system: 'phone', value: '+1 (217) 5550100', use: 'home' },
      { system: 'phone', value: '+1 (217) 5550142', use: 'mobile' },
      // XTN-2 NET is sent, and the guide's use map gives it no use: the default does not apply.
      { system: 'email', value: 'jane@example.com' },
    ]);
  });

  it('fails the load on a default the converted type has no such element or code for', async () => {
    const messages =
      await loadErrors(`        - { from: PID-13, type: XTN, defaults: { use: house, kind: x, period: x } }
        - { from: PID-14, object: { value: $.1 }, defaults: { use: work } }
        - { from: PID-40, type: XTN, defaultsWhen: { missing: $.2 } }
        - { from: PID-40, type: XTN, defaults: { use: work }, defaultsWhen: { missing: PID-99 } }`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^11 defaults: "house" is not a code of ContactPoint.use \(home, work/),
        expect.stringMatching(/^11 defaults: ContactPoint has no element "kind"/),
        expect.stringMatching(/^11 defaults: ContactPoint.period is not a single primitive element/),
        expect.stringMatching(/^12 defaults: needs from: with a datatype conversion/),
        expect.stringMatching(/^13 defaultsWhen: says which values get the defaults: it needs defaults:/),
        expect.stringMatching(/^14 .*PID-99/),
      ]),
    );
  });

  it('fails the load on defaults for a value that has no elements', async () => {
    const dir = createMappingDir(
      {
        'adt.yaml': patient('        - { from: PID-13, type: XTN }').replace(
          '      telecom:',
          '      gender: { from: PID-8, table: v2-0001, defaults: { use: home } }\n      telecom:',
        ),
      },
      dirs,
    );
    const err = (await loadSet(dir).catch((e: unknown) => e)) as MappingLoadError;
    expect(err.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^defaults: code has no elements/),
    ]);
  });

  describe('a default written as a rule', () => {
    const IDS = [
      'MSH|^~\\&|APP|FAC^2.16.840.1.113883.3.42^ISO|CARE|CARE|20240305101500-0500||ADT^A01|C1|P|2.5.1',
      'EVN|A01|20240305101200-0500',
      'PID|1||A1^^^^MR~B2^^^HOSP^MR~C3^^^^SS^CLINIC||Doe^Jane',
    ].join('\r');
    const identifiers = (rule: string): string => `
messageType: ADT
events: [A01]
eventTime: [{ from: EVN-2, type: DTM }]
resources:
  - name: facility
    type: Organization
    id: [MSH-4.1]
    elements:
      name: { from: MSH-4.1 }
  - name: patient
    type: Patient
    id: [PID-3.1]
    elements:
      identifier:
${rule}
`;
    async function identifiersOf(rule: string): Promise<unknown> {
      const set = await loadSet(createMappingDir({ 'adt.yaml': identifiers(rule) }, dirs));
      const result = mapMessage(parseHl7(IDS), set, {
        messageId: 'm1',
        receivedAt: '2024-01-01T00:00:00Z',
        defaultTimezone: 'UTC',
      });
      if (result.status !== 'mapped') throw new Error(result.reason);
      return result.bundle.entry.find((e) => e.resource.resourceType === 'Patient')?.resource['identifier'];
    }
    async function ruleErrors(rule: string): Promise<string[]> {
      const dir = createMappingDir({ 'adt.yaml': identifiers(rule) }, dirs);
      const err = (await loadSet(dir).catch((e: unknown) => e)) as MappingLoadError;
      return err.problems.map((p) => `${p.line ?? ''} ${p.message}`);
    }
    const MR = { coding: [expect.objectContaining({ code: 'MR' })] };
    const SS = { coding: [expect.objectContaining({ code: 'SS' })] };
    // The facility Organization's id is a hash of MSH-4.1.
    const FACILITY = { reference: expect.stringMatching(/^Organization\/[0-9a-f]{32}$/) as unknown };

    it('reads the message for each value that lacks the element, and a value that has it keeps its own', async () => {
      const rule =
        '        - { from: PID-3, type: CX, defaults: { system: { from: MSH-4, type: HD }, assigner: { ref: facility } } }';
      expect(await identifiersOf(rule)).toEqual([
        {
          type: MR,
          value: 'A1',
          system: 'urn:oid:2.16.840.1.113883.3.42',
          assigner: FACILITY,
        },
        // CX.4 gives the system; the assigner, which the value lacks, is still filled.
        { type: MR, value: 'B2', system: 'urn:care:id:HOSP', assigner: FACILITY },
        {
          type: SS,
          value: 'C3',
          system: 'urn:oid:2.16.840.1.113883.3.42',
          assigner: FACILITY,
        },
      ]);
    });

    it('with defaultsWhen, completes only the values the condition holds for; $ is the value there too', async () => {
      const rule = `        - from: PID-3
          type: CX
          defaults: { system: { from: $.6, type: HD, else: { from: MSH-4, type: HD } } }
          defaultsWhen: { in: [$.5, [MR]] }`;
      expect(await identifiersOf(rule)).toEqual([
        { type: MR, value: 'A1', system: 'urn:oid:2.16.840.1.113883.3.42' },
        { type: MR, value: 'B2', system: 'urn:care:id:HOSP' },
        // SS is not the facility's number: no default, though its CX.6 names a clinic.
        { type: SS, value: 'C3' },
      ]);
    });

    it('fails the load once for each mistake: element, list, type, conversion, location, reference', async () => {
      const messages = await ruleErrors(`        - from: PID-3
          type: CX
          defaults:
            sytem: { from: MSH-4, type: HD }
            extension: { from: MSH-4, type: HD }
            value: { from: MSH-4, type: HD, to: integer }
            system: { from: MSH-4, type: XTN }
            assigner: { ref: nowhere }
            type: { from: $.99, type: CWE }`);
      expect(messages).toEqual([
        expect.stringMatching(/^19 defaults: Identifier has no element "sytem"$/),
        expect.stringMatching(/^20 defaults: Identifier.extension is a list, not a single element$/),
        expect.stringMatching(/^21 defaults: Identifier.value is a string, not integer$/),
        expect.stringMatching(/^22 no conversion from HL7 XTN to FHIR uri$/),
        expect.stringMatching(/^23 no resource rule named "nowhere"$/),
        expect.stringMatching(/^24 \$.99 is PID-3.99: PID-3 is CX, which has 12 components/),
      ]);
    });

    it('is refused by the schema when it is neither a text nor a rule', async () => {
      const messages = await ruleErrors(
        '        - { from: PID-3, type: CX, defaults: { system: { form: MSH-4 }, use: [official] } }',
      );
      // A misspelt rule key is reported as any rule's is: the key, and what a rule needs.
      expect(messages).toEqual([
        expect.stringMatching(/^16 .*defaults\.system: needs one of from:, value:/),
        expect.stringMatching(/^16 .*defaults\.system: unknown property "form"$/),
        expect.stringMatching(/^16 .*defaults\.use: must be text or an object/),
      ]);
    });
  });
});
