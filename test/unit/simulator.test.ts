/**
 * The simulator's pure parts: the population, the messages it renders (which the engine's own
 * parser must accept), pacing arithmetic and latency percentiles.
 */
import { describe, expect, it } from 'vitest';
import { readMessageHeader } from '../../engine/src/hl7/message-header';
import { parseHl7, type Hl7Message } from '../../engine/src/hl7/parse-message';
import { getSegments, readValue } from '../../engine/src/hl7/read-value';
import { splitMessages, suffixControlId } from '../../engine/src/cli/simulator/corpus';
import { createFeed } from '../../engine/src/cli/simulator/feed-generator';
import { BMP, CBC, flagFor } from '../../engine/src/cli/simulator/lab-panels';
import {
  createLatencyRecorder,
  percentile,
  summarizeLatencies,
} from '../../engine/src/cli/simulator/latency-stats';
import { createGeneratedSource } from '../../engine/src/cli/simulator/message-source';
import { escapeHl7, hl7Time } from '../../engine/src/cli/simulator/message-templates';
import { createSendPacer } from '../../engine/src/cli/simulator/pacer';
import { createPopulation, npiCheckDigit } from '../../engine/src/cli/simulator/patient-population';
import { parseSimulateArgs } from '../../engine/src/cli/simulator/simulate-args';

const START = new Date('2026-03-01T08:00:00Z');

function generate(count: number, seed: number | string = 42, streams = 3): string[] {
  const population = createPopulation({ patients: 120, facilities: 3, seed });
  const source = createGeneratedSource({ population, seed, runId: 'run1', streams, count, start: START });
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = source.take(i % streams);
    if (m !== undefined) texts.push(m.text);
  }
  return texts;
}

describe('patient population', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = createPopulation({ patients: 50, facilities: 3, seed: 'demo' });
    const b = createPopulation({ patients: 50, facilities: 3, seed: 'demo' });
    const c = createPopulation({ patients: 50, facilities: 3, seed: 'other' });
    expect(a).toEqual(b);
    expect(a.patients.map((p) => p.family)).not.toEqual(c.patients.map((p) => p.family));
  });

  it('gives each facility its own sender identity and MRN authority, and each patient an MRN at each', () => {
    const pop = createPopulation({ patients: 30, facilities: 8, seed: 1 });
    expect(new Set(pop.facilities.map((f) => f.code)).size).toBe(8);
    expect(new Set(pop.facilities.map((f) => f.mrnAuthority)).size).toBe(8);
    for (const p of pop.patients) {
      expect(p.mrns).toHaveLength(8);
      expect(p.birthDate).toMatch(/^\d{8}$/);
    }
  });

  it('computes NPI check digits with the CMS Luhn rule', () => {
    // CMS's worked example: 123456789 -> check digit 3.
    expect(npiCheckDigit('123456789')).toBe('3');
    const pop = createPopulation({ patients: 200, facilities: 2, seed: 9 });
    for (const pcp of pop.pcps) expect(npiCheckDigit(pcp.npi.slice(0, 9))).toBe(pcp.npi.charAt(9));
  });
});

describe('generated messages', () => {
  const texts = generate(3000);
  const parsed: Hl7Message[] = texts.map((t) => parseHl7(t));

  it('are accepted by the engine parser and header reader, with unique MSH-10s', () => {
    const ids = parsed.map((m) => readMessageHeader(m).controlId);
    expect(new Set(ids).size).toBe(texts.length);
    const kinds = new Set(
      parsed.map((m) => `${readMessageHeader(m).messageType}^${readMessageHeader(m).triggerEvent}`),
    );
    expect([...kinds].sort()).toEqual(['ADT^A01', 'ADT^A02', 'ADT^A03', 'ADT^A04', 'ADT^A08', 'ORU^R01']);
  });

  it('are mostly v2.5.1 with some v2.3', () => {
    const versions = parsed.map((m) => readMessageHeader(m).version);
    const v23 = versions.filter((v) => v === '2.3').length;
    expect(v23).toBeGreaterThan(0);
    expect(versions.filter((v) => v === '2.5.1').length).toBeGreaterThan(v23 * 3);
  });

  it('carry the PCP with an NPI in PD1-4, ED visits as PV1-2 E and a PV1-36 disposition on discharges', () => {
    for (const m of parsed) {
      expect(readValue(m, 'PD1-4.1')).toMatch(/^\d{10}$/);
      expect(readValue(m, 'PD1-4.9')).toMatch(/^NPI(&|$)/);
    }
    const adt = (event: string): Hl7Message[] => parsed.filter((m) => readValue(m, 'MSH-9.2') === event);
    expect(adt('A04').some((m) => readValue(m, 'PV1-2') === 'E')).toBe(true);
    for (const m of adt('A03')) expect(readValue(m, 'PV1-36')).toMatch(/^\d{2}$/);
    expect(adt('A02').every((m) => readValue(m, 'PV1-6') !== undefined)).toBe(true);
  });

  it('report CBC and BMP results with LOINC codes, units, ranges, flags and occasional critical values', () => {
    const oru = parsed.filter((m) => readValue(m, 'MSH-9.1') === 'ORU');
    const loincs = new Set([...CBC.analytes, ...BMP.analytes].map((a) => a.loinc));
    const flags = new Set<string>();
    for (const m of oru) {
      for (const obx of getSegments(m, 'OBX')) {
        expect(loincs.has(obx.fields[3]?.split('^')[0] ?? '')).toBe(true);
        expect(obx.fields[3]?.split('^')[2]).toBe('LN');
        expect(obx.fields[6]).not.toBe('');
        expect(obx.fields[7]).toMatch(/^[\d.]+-[\d.]+$/);
        flags.add(obx.fields[8] ?? '');
      }
    }
    expect([...flags].sort()).toEqual(expect.arrayContaining(['H', 'HH', 'L', 'N']));
  });

  it('keep each visit in order: it opens with A01/A04 and nothing follows its A03', () => {
    const perVisit = new Map<string, string[]>();
    for (const m of parsed) {
      const visit = `${readValue(m, 'MSH-4')}|${readValue(m, 'PV1-19.1') ?? ''}`;
      const list = perVisit.get(visit) ?? [];
      list.push(readValue(m, 'MSH-9.2') ?? '');
      perVisit.set(visit, list);
    }
    for (const events of perVisit.values()) {
      expect(['A01', 'A04']).toContain(events[0]);
      const discharge = events.indexOf('A03');
      if (discharge >= 0) expect(discharge).toBe(events.length - 1);
    }
  });

  it('are reproducible from the seed', () => {
    expect(generate(200, 'same')).toEqual(generate(200, 'same'));
    expect(generate(200, 'same')).not.toEqual(generate(200, 'different'));
  });

  it('put a patient on a single stream, so one connection carries all of their messages', () => {
    const population = createPopulation({ patients: 10, facilities: 1, seed: 3 });
    const feed = createFeed({ population, seed: 3, runId: 'r', stream: 1, streams: 3, start: START });
    for (let i = 0; i < 100; i++) {
      const mrn = readValue(parseHl7(feed.next().text), 'PID-3.1');
      const owner = population.patients.find((p) => p.mrns[0] === mrn);
      expect((owner?.index ?? -1) % 3).toBe(1);
    }
  });
});

describe('message template helpers', () => {
  it('escapes delimiters and formats UTC timestamps', () => {
    expect(escapeHl7('A|B^C~D\\E&F')).toBe('A\\F\\B\\S\\C\\R\\D\\E\\E\\T\\F');
    expect(hl7Time(new Date('2026-01-02T03:04:05Z'))).toBe('20260102030405+0000');
  });

  it('flags lab values against ranges and critical limits', () => {
    const potassium = BMP.analytes.find((a) => a.loinc === '2823-3')!;
    expect(flagFor(potassium, 4.0)).toBe('N');
    expect(flagFor(potassium, 5.5)).toBe('H');
    expect(flagFor(potassium, 3.2)).toBe('L');
    expect(flagFor(potassium, 6.8)).toBe('HH');
    expect(flagFor(potassium, 2.5)).toBe('LL');
  });
});

describe('corpus rewriting', () => {
  it('appends the run suffix to MSH-10 and leaves the rest alone', () => {
    const text = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|CTRL1|P|2.5.1\rPID|1||X';
    const out = suffixControlId(text, '-run9');
    expect(out.controlId).toBe('CTRL1-run9');
    expect(out.text).toBe('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|CTRL1-run9|P|2.5.1\rPID|1||X');
    expect(suffixControlId('MSH|^~\\&|A|B|C|D|2024||ADT^A01||P|2.5', '-x').controlId).toBe('');
  });

  it('drops a BOM, normalises line breaks and splits files holding several messages', () => {
    const file = '\uFEFFMSH|^~\\&|A\r\nPID|1\r\n\r\nMSH|^~\\&|B\nPID|2\n';
    expect(splitMessages(file)).toEqual(['MSH|^~\\&|A\rPID|1', 'MSH|^~\\&|B\rPID|2']);
  });
});

describe('send pacer', () => {
  it('spaces slots 1000/rate ms apart for concurrent takers', () => {
    const pacer = createSendPacer(100, 0);
    expect(pacer.take(0)).toBe(0);
    expect(pacer.take(0)).toBeCloseTo(10);
    expect(pacer.take(0)).toBeCloseTo(20);
    // 30 ms later the two reserved slots are used up and one more is due now.
    expect(pacer.take(30)).toBeCloseTo(0);
  });

  it('sends the slots that fell due while every connection awaited its ACK as soon as it can', () => {
    // 100/s: slots every 10 ms. Four sends at 0-30 ms, then every sender waits 60 ms for an ACK:
    // the six slots of 40-90 ms are late and go at once; the next is due at 100 ms.
    const pacer = createSendPacer(100, 0);
    for (const t of [0, 10, 20, 30]) expect(pacer.take(t)).toBe(0);
    for (let i = 0; i < 6; i++) expect(pacer.take(90)).toBe(0);
    expect(pacer.take(90)).toBeCloseTo(10);
    // Never ahead of the schedule: the slot after is 10 ms later still.
    expect(pacer.take(90)).toBeCloseTo(20);
  });

  it('never waits when unpaced', () => {
    const pacer = createSendPacer(0, 0);
    for (let i = 0; i < 10; i++) expect(pacer.take(0)).toBe(0);
  });
});

describe('latency stats', () => {
  it('computes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    const s = summarizeLatencies(values);
    expect(s).toMatchObject({ count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
    expect(percentile([], 99)).toBe(0);
    expect(percentile([7], 50)).toBe(7);
  });

  it('keeps every sample as it grows', () => {
    const rec = createLatencyRecorder();
    for (let i = 1; i <= 5000; i++) rec.record(i / 10);
    const s = rec.summary();
    expect(s.count).toBe(5000);
    expect(s.p99).toBeCloseTo(495);
    expect(s.max).toBeCloseTo(500);
  });
});

describe('simulate arguments', () => {
  it('applies defaults and reports every problem at once', () => {
    const args = parseSimulateArgs(['--port', '2575', '--seed', 's']);
    expect(args).toMatchObject({
      host: '127.0.0.1',
      port: 2575,
      rate: 200,
      patients: 500,
      facilities: 3,
      connections: 1,
      seed: 's',
    });
    let message = '';
    try {
      parseSimulateArgs(['--port', 'x', '--rate=-1', '--tls-cert', 'c']);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('--port must be');
    expect(message).toContain('--rate must be');
    expect(message).toContain('--tls-cert and --tls-key go together');
  });
});
