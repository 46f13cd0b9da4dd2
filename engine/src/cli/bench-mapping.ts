/**
 * Mapping throughput for `npm run bench`: parse+map of an ADT A01 and of a 20-OBX ORU, beside
 * node-hl7-client's parse of the same text (the floor), and heap growth over 100,000 mappings.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Message } from 'node-hl7-client';
import { parseHl7 } from '../hl7/parse-message';
import { loadMappingSet } from '../mapping/load-mappings';
import { mapMessage } from '../mapping/map-message';
import type { MappingSet } from '../mapping/mapping-types';

/** One benchmark row. */
export interface BenchRow {
  name: string;
  p50Ms: number;
  p99Ms: number;
  opsPerSec: number;
  heapDeltaMb?: number;
}

const MAPPINGS_DIR = fileURLToPath(new URL('../../../mappings', import.meta.url));

const ADT_A01 = [
  'MSH|^~\\&|EPIC|MERCY^2.16.840.1.113883.3.1234^ISO|CARE|CARE|20240305101500-0500||ADT^A01^ADT_A01|A01-0001|P|2.5.1',
  'EVN|A01|20240305101200-0500',
  'PID|1||MRN123^^^MERCY&2.16.840.1.113883.3.1234&ISO^MR~999-88-7777^^^USSSA^SS||Doe^Jane^Q^Jr^Ms^^L||19800214|F|||12 Oak St^Apt 4^Springfield^IL^62701^USA^H||^PRN^PH^^1^217^5550100|||M',
  'PD1|||Mercy Clinic|1234567893^Welby^Marcus^^^Dr^MD^^^^^^NPI',
  'NK1|1|Doe^John|SPO^Spouse^HL70063',
  'PV1|1|I|4W^401^B^MERCY||||1111111111^House^Gregory^^^Dr^^^^^^^NPI||||||||||||V12345^^^MERCY&2.16.840.1.113883.3.1234&ISO^VN|||||||||||||||||||||||||20240305100000-0500',
  'DG1|1||I21.4^NSTEMI^I10||20240305|A',
].join('\r');

/**
 * The same A01 with the clinical segments an admission often carries, each mapped since the
 * fidelity work: vitals (OBX), allergies (AL1), a procedure (PR1), insurance (IN1), a care-team
 * member (ROL); the mapping target holds with them.
 */
const ADT_A01_CLINICAL = [
  ADT_A01,
  'OBX|1|NM|8867-4^Heart rate^LN||88|/min^beats per minute^UCUM|||||F|||20240305100500-0500',
  'OBX|2|NM|8480-6^Systolic blood pressure^LN||142|mm[Hg]^mmHg^UCUM|||||F|||20240305100500-0500',
  'OBX|3|NM|8310-5^Body temperature^LN||37.1|Cel^degC^UCUM|||||F|||20240305100500-0500',
  'AL1|1|DA|70618^Penicillin^RXNORM|SV|Hives~Wheezing|20150101',
  'AL1|2|FA|256349002^Peanut^SCT|MO|Swelling',
  'PR1|1||0270346^Dilation of coronary artery^ICD10PCS||20240305113000-0500|||||||1111111111^House^Gregory^^^Dr^^^^^^^NPI',
  'IN1|1|PPO1^Blue PPO|BCBS01^^^BCBS&2.16.840.1.113883.3.9999&ISO|Blue Cross Blue Shield|||||GRP-778||||20240101|20241231|||||SEL||||||||||||||||||XYZ123456',
  'ROL|1|AD|CP^Consulting provider^HL70443|2222222222^Grey^Meredith^^^Dr^^^^^^^NPI',
].join('\r');

function oruWith(count: number): string {
  const lines = [
    'MSH|^~\\&|LAB|MERCY|CARE|CARE|20240305140000-0500||ORU^R01^ORU_R01|ORU-0001|P|2.5.1',
    'PID|1||MRN123^^^MERCY&2.16.840.1.113883.3.1234&ISO^MR||Doe^Jane^Q||19800214|F',
    'OBR|1|PL778^MERCY|FL990^MERCYLAB|24323-8^Comprehensive metabolic panel^LN|||20240305120000-0500||||||||||||||20240305133000-0500|||F',
  ];
  for (let i = 1; i <= count; i++) {
    lines.push(
      `OBX|${i}|NM|${1000 + i}-${i % 10}^Analyte ${i}^LN||${(i * 1.7).toFixed(1)}|mg/dL|1.0-99.0|N|||F|||20240305121500-0500`,
    );
  }
  return lines.join('\r');
}

function measure(name: string, iterations: number, fn: () => void): BenchRow {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn();
  const times = new Float64Array(iterations);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  const totalMs = Number(process.hrtime.bigint() - start) / 1e6;
  times.sort();
  return {
    name,
    p50Ms: times[Math.floor(iterations * 0.5)] ?? 0,
    p99Ms: times[Math.floor(iterations * 0.99)] ?? 0,
    opsPerSec: Math.round((iterations / totalMs) * 1000),
  };
}

function heapMb(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

function mapText(text: string, set: MappingSet, n: number): void {
  const result = mapMessage(parseHl7(text), set, {
    messageId: `bench-${n}`,
    receivedAt: '2024-01-01T00:00:00Z',
    defaultTimezone: 'UTC',
  });
  if (result.status !== 'mapped') throw new Error(`bench message was not mapped: ${result.reason}`);
}

/** Runs the mapping benchmarks (run node with --expose-gc for a steadier heap figure). */
export async function benchMapping(iterations = 5000): Promise<BenchRow[]> {
  const set = await loadMappingSet(MAPPINGS_DIR);
  const oru = oruWith(20);
  let n = 0;
  const rows = [
    measure('mapping: ADT^A01 parse+map', iterations, () => mapText(ADT_A01, set, n++)),
    measure('floor: ADT^A01 node-hl7-client parse', iterations, () => new Message({ text: ADT_A01 })),
    measure('mapping: ADT^A01 with OBX, AL1, PR1, IN1, ROL parse+map', iterations, () =>
      mapText(ADT_A01_CLINICAL, set, n++),
    ),
    measure('mapping: ORU^R01 20 OBX parse+map', iterations, () => mapText(oru, set, n++)),
    measure('floor: ORU^R01 20 OBX node-hl7-client parse', iterations, () => new Message({ text: oru })),
  ];
  const before = heapMb();
  const heap = measure('mapping: 100,000 ADT^A01 (heap)', 100_000, () => mapText(ADT_A01, set, n++));
  rows.push({ ...heap, heapDeltaMb: Math.round((heapMb() - before) * 10) / 10 });
  return rows;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.table(await benchMapping());
}
