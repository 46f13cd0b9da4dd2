// The timeline model from the engine's real FHIR (the mapping goldens stored in order): spans,
// facilities, locations, attending, disposition, diagnoses, lab grouping, flags, corrections and
// provenance.
import { describe, expect, it } from 'vitest';
import { buildTimeline } from '../src/timeline/build-timeline';
import { flagOf } from '../src/timeline/result-flags';
import type { EncounterEvent, LabReportEvent, TimelineEvent } from '../src/timeline/timeline-types';
import {
  CBC_REPORT,
  CMP_REPORT,
  goldenBundle,
  MERCY_ENCOUNTER,
  NORTHWIND_ENCOUNTER,
  NORTHWIND_REPORT,
} from './fixtures/golden-bundle';

const model = buildTimeline(goldenBundle());

function eventOf(id: string): TimelineEvent {
  const e = model.events.find((x) => x.id === id);
  if (e === undefined) throw new Error(`${id} is not on the timeline`);
  return e;
}
const encounter = (id: string): EncounterEvent => eventOf(id) as EncounterEvent;
const report = (id: string): LabReportEvent => eventOf(id) as LabReportEvent;

describe('timeline model', () => {
  it('lists encounters and lab reports newest first', () => {
    expect(model.events.map((e) => e.id)).toEqual([
      NORTHWIND_REPORT,
      NORTHWIND_ENCOUNTER,
      CBC_REPORT,
      CMP_REPORT,
      MERCY_ENCOUNTER,
    ]);
    const times = model.events.map((e) => e.time);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('merges two Organization ids of one hospital into one facility, each with a colour', () => {
    expect(model.facilities.map((f) => f.name)).toEqual(['MERCY', 'NORTHWIND']);
    expect(new Set(model.facilities.map((f) => f.colour)).size).toBe(2);
    expect(encounter(MERCY_ENCOUNTER).facilityKey).toBe('MERCY');
    expect(report(CMP_REPORT).facilityKey).toBe('MERCY');
    expect(report(NORTHWIND_REPORT).facilityKey).toBe('NORTHWIND');
  });

  it('makes an admission a span from admit to discharge with its disposition', () => {
    const e = encounter(MERCY_ENCOUNTER);
    expect(e.kind).toBe('inpatient');
    expect(e.title).toBe('Inpatient stay');
    expect(e.start).toBe('2024-03-05T10:00:00-05:00');
    expect(e.end).toBe('2024-03-08T15:45:00-05:00');
    expect(e.ongoing).toBe(false);
    expect(e.endTime).toBe(Date.parse('2024-03-08T15:45:00-05:00'));
    expect(e.dischargeDisposition).toBe('Home');
    expect(e.attending).toBe('Dr Gregory House');
    expect(e.diagnoses).toEqual(['Non-ST elevation myocardial infarction']);
  });

  it('makes an ED visit an ongoing span from arrival', () => {
    const e = encounter(NORTHWIND_ENCOUNTER);
    expect(e.kind).toBe('emergency');
    expect(e.ongoing).toBe(true);
    expect(e.end).toBeUndefined();
    expect(e.attending).toBe('Dr Luis Ramos');
  });

  it('resolves the location history through partOf, earlier stays first', () => {
    const stays = encounter(MERCY_ENCOUNTER).locations;
    // The A03 that ends this stay completes its last place too (the mapping's location history).
    expect(stays.map((s) => [s.name, s.status, s.unit])).toEqual([
      ['MERCY 4W 401 B', 'completed', 'MERCY 4W'],
      ['MERCY ICU 12 A', 'completed', 'MERCY ICU'],
    ]);
    expect(stays[0]?.within).toEqual(['MERCY', 'MERCY MAIN', 'MERCY MAIN 4', 'MERCY 4W', 'MERCY 4W 401']);
  });

  it('groups results by their DiagnosticReport', () => {
    const cmp = report(CMP_REPORT);
    expect(cmp.title).toBe('Comprehensive metabolic panel');
    expect(cmp.results).toHaveLength(11);
    expect(cmp.results[0]?.name).toBe('Glucose');
    expect(report(CBC_REPORT).results.map((r) => r.name)).toEqual(['Hemoglobin', 'Hemoglobin']);
    // No result appears twice, nor loose beside its report.
    const ids = model.events.flatMap((e) => (e.type === 'lab' ? e.results.map((r) => r.id) : []));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('flags a report by its most severe result and marks corrections', () => {
    const cmp = report(CMP_REPORT);
    expect(cmp.flag).toEqual({ severity: 'critical', code: 'HH', label: 'Critical high' });
    expect(cmp.corrected).toBe(true);
    const potassium = cmp.results.find((r) => r.name === 'Potassium');
    expect(potassium).toMatchObject({
      value: '6.8 mmol/L',
      numericValue: 6.8,
      corrected: true,
      referenceRange: '3.5-5.1',
      notes: ['Critical value called to Dr. House at 13:05', 'Read back confirmed'],
    });
    expect(report(CBC_REPORT)).toMatchObject({
      flag: { severity: 'normal' },
      corrected: false,
      status: 'preliminary',
    });
  });

  it('shows each kind of value as the lab sent it, and only plain quantities as numbers', () => {
    const byName = new Map(report(CMP_REPORT).results.map((r) => [r.name, r]));
    expect(byName.get('Creatinine')).toMatchObject({ value: '<0.5 mg/dL', flag: { label: 'Low' } });
    expect(byName.get('Creatinine')?.numericValue).toBeUndefined();
    expect(byName.get('Titer')).toMatchObject({ value: '1:128', flag: { severity: 'abnormal' } });
    expect(byName.get('Bacteria identified in Blood by Culture')?.value).toBe('Escherichia coli');
    expect(byName.get('Color of Urine')?.value).toBe('1–3 /[HPF]');
    expect(byName.get('AST')?.referenceRange).toBe('>10');
  });

  it('gives every item its provenance: facility, message and when it was received', () => {
    expect(encounter(MERCY_ENCOUNTER).provenance).toEqual({
      resource: MERCY_ENCOUNTER,
      facilityKey: 'MERCY',
      messageId: '104',
      receivedAt: '2024-03-08T20:46:00Z',
    });
    expect(report(NORTHWIND_REPORT).provenance).toMatchObject({ messageId: '202', facilityKey: 'NORTHWIND' });
    expect(report(CMP_REPORT).results[0]?.provenance.messageId).toBe('102');
  });

  it('keeps the patient records of each facility, with MRNs but never an SSN', () => {
    expect(model.patients.map((p) => [p.facilityKey, p.name, p.identifiers])).toEqual([
      ['MERCY', 'Jane Q Doe', ['MRN123']],
      ['NORTHWIND', 'Ana Lee', expect.any(Array)],
    ]);
    expect(JSON.stringify(model.patients)).not.toContain('999-88-7777');
  });

  it('lists trendable tests across facilities by LOINC', () => {
    expect(model.tests.find((t) => t.key === 'http://loinc.org|2345-7')).toEqual({
      key: 'http://loinc.org|2345-7',
      name: 'Glucose',
      count: 2,
    });
  });

  it('shows a result that no report lists as an event of its own, attributed by its patient', () => {
    const loose = buildTimeline({
      resourceType: 'Bundle',
      entry: [
        { resource: { resourceType: 'Organization', id: 'o', name: 'Lakeside' } },
        {
          resource: {
            resourceType: 'Patient',
            id: 'p',
            managingOrganization: { reference: 'Organization/o' },
          },
        },
        {
          resource: {
            resourceType: 'Observation',
            id: 'x',
            status: 'amended',
            code: { text: 'Troponin' },
            subject: { reference: 'Patient/p' },
            effectiveDateTime: '2024-05-01T10:00:00Z',
            valueQuantity: { value: 3, unit: 'ng/L' },
            interpretation: [{ coding: [{ code: 'AA' }] }],
          },
        },
      ],
    });
    expect(loose.events).toHaveLength(1);
    expect(loose.events[0]).toMatchObject({
      type: 'lab',
      id: 'Observation/x',
      title: 'Troponin',
      facilityKey: 'LAKESIDE',
      corrected: true,
      flag: { severity: 'critical', label: 'Critical abnormal' },
    });
  });

  it('puts items that name no facility under the unknown facility', () => {
    const m = buildTimeline({
      resourceType: 'Bundle',
      entry: [
        {
          resource: {
            resourceType: 'Encounter',
            id: 'e',
            class: { code: 'AMB' },
            period: { start: '2024-01-01' },
          },
        },
      ],
    });
    expect(m.facilities).toEqual([
      { key: '(unknown)', name: 'Unknown facility', colour: expect.any(String) as string },
    ]);
    expect(m.events[0]).toMatchObject({ kind: 'outpatient', facilityKey: '(unknown)', ongoing: true });
  });
});

describe('result flags', () => {
  const flag = (code: string, system?: string): ReturnType<typeof flagOf> =>
    flagOf([{ coding: [{ code, ...(system !== undefined ? { system } : {}) }] }]);

  it('reads the v3-ObservationInterpretation codes', () => {
    expect(flag('HH').severity).toBe('critical');
    expect(flag('LL')).toMatchObject({ severity: 'critical', label: 'Critical low' });
    expect(flag('AA').severity).toBe('critical');
    expect(flag('H')).toMatchObject({ severity: 'abnormal', label: 'High' });
    expect(flag('L')).toMatchObject({ severity: 'abnormal', label: 'Low' });
    expect(flag('A')).toMatchObject({ severity: 'abnormal', label: 'Abnormal' });
    expect(flag('N').severity).toBe('normal');
    expect(flagOf(undefined).severity).toBe('none');
  });

  it('ignores codes of other systems and keeps the worst of several', () => {
    expect(flag('HH', 'http://example.org/local').severity).toBe('none');
    expect(flagOf([{ coding: [{ code: 'H' }, { code: 'LL' }] }, { coding: [{ code: 'N' }] }]).code).toBe(
      'LL',
    );
  });
});
