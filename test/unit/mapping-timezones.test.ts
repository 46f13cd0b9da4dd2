/**
 * Sender time zones: `senders/<sender>/sender.yaml` is loaded and checked like any mapping file,
 * times sent without an offset are read in the sender's zone (else the default the caller
 * passes), and the message's Provenance records the zone only when one was assumed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { loadMappingSetFromTexts, readMappingTexts } from '../../engine/src/mapping/load-mappings';
import { mapMessage, type BundleEntry, type MapResult } from '../../engine/src/mapping/map-message';
import { isMappingLoadError, type MappingProblem } from '../../engine/src/mapping/mapping-error';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { MAPPINGS_DIR, sharedSchemaIndex } from './mapping-test-support';

const ASSUMED = 'urn:care:fhir:assumed-timezone';

let base: Map<string, string>;
beforeAll(async () => {
  base = await readMappingTexts(MAPPINGS_DIR);
});

async function load(overlay: Record<string, string> = {}): Promise<MappingSet> {
  const texts = new Map([...base, ...Object.entries(overlay)]);
  return loadMappingSetFromTexts('mappings', texts, { schema: await sharedSchemaIndex() });
}

async function problemsOf(overlay: Record<string, string>): Promise<MappingProblem[]> {
  try {
    await load(overlay);
  } catch (err) {
    if (isMappingLoadError(err)) return [...err.problems];
    throw err;
  }
  throw new Error('the set loaded');
}

/** An ED registration; `t` is appended to each time (an offset, or '' for none). */
function a04(facility: string, t: { msh?: string; evn?: string; pv1?: string }): string {
  const pv1 = Array.from({ length: 45 }, () => '');
  pv1[0] = 'PV1';
  pv1[1] = '1';
  pv1[2] = 'E';
  pv1[3] = `ED^^^${facility}`;
  pv1[19] = `V1^^^${facility}^VN`;
  pv1[44] = `202611201738${t.pv1 ?? ''}`;
  return [
    `MSH|^~\\&|ADMITPRO|${facility}|CARE|CARE|20261120174105${t.msh ?? ''}||ADT^A04^ADT_A01|C1|P|2.5.1`,
    `EVN|A04|20261120174100${t.evn ?? ''}`,
    `PID|1||870023^^^${facility}^MR||Okafor^Adaeze||19780912|F`,
    pv1.join('|'),
  ].join('\r');
}

function map(set: MappingSet, text: string, defaultTimezone = 'UTC'): MapResult {
  return mapMessage(parseHl7(text), set, {
    messageId: 'm1',
    receivedAt: '2026-11-20T22:45:00Z',
    defaultTimezone,
  });
}

function resource(result: MapResult, type: string): BundleEntry['resource'] {
  if (result.status !== 'mapped') throw new Error(result.reason);
  const found = result.bundle.entry.find((e) => e.resource.resourceType === type)?.resource;
  if (found === undefined) throw new Error(`no ${type}`);
  return found;
}

describe('sender.yaml', () => {
  it('gives each sender directory its zone, MSH-3^MSH-4 before MSH-4', async () => {
    const set = await load({
      'senders/FAC/sender.yaml': 'timezone: America/Denver\n',
      'senders/LAB^FAC/sender.yaml': 'description: the lab keeps UTC\ntimezone: UTC\n',
    });
    expect(set.timezones.get('HARBORVIEW')).toBe('America/New_York');
    expect(
      set.findTimezone({
        messageType: 'ADT',
        triggerEvent: 'A04',
        sender: 'LAB^FAC',
        sendingFacility: 'FAC',
      }),
    ).toBe('UTC');
    expect(
      set.findTimezone({
        messageType: 'ADT',
        triggerEvent: 'A04',
        sender: 'REG^FAC',
        sendingFacility: 'FAC',
      }),
    ).toBe('America/Denver');
    expect(
      set.findTimezone({ messageType: 'ADT', triggerEvent: 'A04', sender: 'REG^X', sendingFacility: 'X' }),
    ).toBeUndefined();
  });

  it('reports an unknown zone, a legacy name and misplaced settings with file and line', async () => {
    const problems = await problemsOf({
      'senders/GOTHAM/sender.yaml': '# Gotham General\ndescription: night shift\ntimezone: America/Gotham\n',
      'senders/OLDFEED/sender.yaml': 'timezone: EST\nresources: []\n',
      'rules/stray.yaml': 'description: x\ntimezone: America/Chicago\n',
    });
    const brief = problems.map((p) => ({ file: p.file, line: p.line, code: p.code }));
    expect(brief).toEqual(
      expect.arrayContaining([
        { file: 'mappings/senders/GOTHAM/sender.yaml', line: 3, code: 'unknown-time-zone' },
        { file: 'mappings/senders/OLDFEED/sender.yaml', line: 1, code: 'unknown-time-zone' },
        { file: 'mappings/senders/OLDFEED/sender.yaml', line: 2, code: 'schema-violation' },
        { file: 'mappings/rules/stray.yaml', line: 2, code: 'schema-violation' },
      ]),
    );
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.line === 3)?.message).toBe(
      'timezone: "America/Gotham" is not an IANA time zone such as America/New_York, or UTC',
    );
    expect(problems.find((p) => p.file.endsWith('stray.yaml'))?.message).toMatch(
      /senders\/<MSH-4>\/sender\.yaml/,
    );
  });
});

describe('times without an offset', () => {
  it("are read in the sender's zone and the Provenance says so", async () => {
    const result = map(await load(), a04('HARBORVIEW', {}));
    expect(resource(result, 'Encounter')['period']).toEqual({ start: '2026-11-20T17:38:00-05:00' });
    const provenance = resource(result, 'Provenance');
    expect(provenance['occurredDateTime']).toBe('2026-11-20T17:41:00-05:00');
    expect(provenance['extension']).toEqual([{ url: ASSUMED, valueString: 'America/New_York' }]);
    expect(result.status === 'mapped' && result.assumedTimezone).toBe('America/New_York');
  });

  it('are read in the default zone for a sender without sender.yaml', async () => {
    const result = map(await load(), a04('LAKESIDE', {}), 'America/Denver');
    expect(resource(result, 'Encounter')['period']).toEqual({ start: '2026-11-20T17:38:00-07:00' });
    expect(resource(result, 'Provenance')['extension']).toEqual([
      { url: ASSUMED, valueString: 'America/Denver' },
    ]);
  });

  it('leave the Provenance alone when every time carried its offset', async () => {
    const result = map(await load(), a04('HARBORVIEW', { msh: '+0100', evn: '+0100', pv1: '+0100' }));
    expect(resource(result, 'Encounter')['period']).toEqual({ start: '2026-11-20T17:38:00+01:00' });
    const provenance = resource(result, 'Provenance');
    expect(provenance['occurredDateTime']).toBe('2026-11-20T17:41:00+01:00');
    expect(provenance).not.toHaveProperty('extension');
    expect(result).not.toHaveProperty('assumedTimezone');
  });

  it('are recorded even when the Provenance rule comes before the resource that read them', async () => {
    const adt = base.get('adt.yaml') ?? '';
    const reordered = adt
      .replace('  - rules/provenance.yaml\n', '')
      .replace('include:\n', 'include:\n  - rules/provenance.yaml\n');
    expect(reordered.indexOf('rules/provenance.yaml')).toBeLessThan(
      reordered.indexOf('rules/encounter.yaml'),
    );
    const set = await load({ 'adt.yaml': reordered });
    // Only PV1-44 (Encounter.period.start) lacks an offset.
    const result = map(set, a04('HARBORVIEW', { msh: '-0500', evn: '-0500' }));
    expect(resource(result, 'Encounter')['period']).toEqual({ start: '2026-11-20T17:38:00-05:00' });
    expect(resource(result, 'Provenance')['extension']).toEqual([
      { url: ASSUMED, valueString: 'America/New_York' },
    ]);
  });
});

describe('required: inside object', () => {
  it("is refused on a resource's own element", async () => {
    const problems = await problemsOf({
      'rules/provenance.yaml': (base.get('rules/provenance.yaml') ?? '').replace(
        'recorded: { context: receivedAt }',
        'recorded: { context: receivedAt, required: true }',
      ),
    });
    expect(problems.map((p) => [p.file, p.rule, p.code])).toEqual([
      ['mappings/rules/provenance.yaml', 'provenance.recorded', 'schema-violation'],
    ]);
  });
});
