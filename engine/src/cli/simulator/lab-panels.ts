/**
 * The laboratory panels the simulator reports (CBC and BMP) with LOINC codes, UCUM units,
 * reference ranges and critical limits, and how a result value and its OBX-8 flag are drawn.
 */
import type { Random } from './seeded-random';

/** One analyte of a panel. */
export interface Analyte {
  readonly loinc: string;
  readonly display: string;
  readonly unit: string;
  readonly low: number;
  readonly high: number;
  /** Values beyond these are critical (OBX-8 LL/HH) and page the PCP. */
  readonly criticalLow?: number;
  readonly criticalHigh?: number;
  readonly decimals: number;
}

export interface LabPanel {
  readonly loinc: string;
  readonly display: string;
  /** OBR-24 diagnostic service section. */
  readonly section: 'HM' | 'CH';
  readonly analytes: readonly Analyte[];
}

export const CBC: LabPanel = {
  loinc: '58410-2',
  display: 'CBC panel - Blood by Automated count',
  section: 'HM',
  analytes: [
    {
      loinc: '6690-2',
      display: 'Leukocytes [#/volume] in Blood by Automated count',
      unit: '10*3/uL',
      low: 4.5,
      high: 11,
      criticalHigh: 30,
      criticalLow: 1,
      decimals: 1,
    },
    {
      loinc: '789-8',
      display: 'Erythrocytes [#/volume] in Blood by Automated count',
      unit: '10*6/uL',
      low: 4.2,
      high: 5.9,
      decimals: 2,
    },
    {
      loinc: '718-7',
      display: 'Hemoglobin [Mass/volume] in Blood',
      unit: 'g/dL',
      low: 12,
      high: 17.5,
      criticalLow: 7,
      criticalHigh: 20,
      decimals: 1,
    },
    {
      loinc: '4544-3',
      display: 'Hematocrit [Volume Fraction] of Blood by Automated count',
      unit: '%',
      low: 36,
      high: 52,
      decimals: 1,
    },
    {
      loinc: '787-2',
      display: 'MCV [Entitic volume] by Automated count',
      unit: 'fL',
      low: 80,
      high: 100,
      decimals: 0,
    },
    {
      loinc: '777-3',
      display: 'Platelets [#/volume] in Blood by Automated count',
      unit: '10*3/uL',
      low: 150,
      high: 400,
      criticalLow: 20,
      criticalHigh: 1000,
      decimals: 0,
    },
  ],
};

export const BMP: LabPanel = {
  loinc: '51990-0',
  display: 'Basic metabolic panel - Blood',
  section: 'CH',
  analytes: [
    {
      loinc: '2951-2',
      display: 'Sodium [Moles/volume] in Serum or Plasma',
      unit: 'mmol/L',
      low: 136,
      high: 145,
      criticalLow: 120,
      criticalHigh: 160,
      decimals: 0,
    },
    {
      loinc: '2823-3',
      display: 'Potassium [Moles/volume] in Serum or Plasma',
      unit: 'mmol/L',
      low: 3.5,
      high: 5.1,
      criticalLow: 2.8,
      criticalHigh: 6.2,
      decimals: 1,
    },
    {
      loinc: '2075-0',
      display: 'Chloride [Moles/volume] in Serum or Plasma',
      unit: 'mmol/L',
      low: 98,
      high: 107,
      decimals: 0,
    },
    {
      loinc: '2028-9',
      display: 'Carbon dioxide, total [Moles/volume] in Serum or Plasma',
      unit: 'mmol/L',
      low: 22,
      high: 29,
      decimals: 0,
    },
    {
      loinc: '3094-0',
      display: 'Urea nitrogen [Mass/volume] in Serum or Plasma',
      unit: 'mg/dL',
      low: 7,
      high: 20,
      decimals: 0,
    },
    {
      loinc: '2160-0',
      display: 'Creatinine [Mass/volume] in Serum or Plasma',
      unit: 'mg/dL',
      low: 0.6,
      high: 1.3,
      decimals: 2,
    },
    {
      loinc: '2345-7',
      display: 'Glucose [Mass/volume] in Serum or Plasma',
      unit: 'mg/dL',
      low: 70,
      high: 99,
      criticalLow: 40,
      criticalHigh: 450,
      decimals: 0,
    },
    {
      loinc: '17861-6',
      display: 'Calcium [Mass/volume] in Serum or Plasma',
      unit: 'mg/dL',
      low: 8.6,
      high: 10.3,
      criticalLow: 6,
      criticalHigh: 13,
      decimals: 1,
    },
  ],
};

export const LAB_PANELS: readonly LabPanel[] = [CBC, BMP];

/** OBX-8 abnormal flags used (HL7 table 0078). */
export type AbnormalFlag = 'N' | 'L' | 'H' | 'LL' | 'HH';

export interface LabValue {
  readonly value: string;
  readonly flag: AbnormalFlag;
}

/**
 * Flags a value against its reference range and critical limits.
 * @param analyte - the analyte's ranges.
 * @param value - the numeric result.
 */
export function flagFor(analyte: Analyte, value: number): AbnormalFlag {
  if (analyte.criticalLow !== undefined && value < analyte.criticalLow) return 'LL';
  if (analyte.criticalHigh !== undefined && value > analyte.criticalHigh) return 'HH';
  if (value < analyte.low) return 'L';
  if (value > analyte.high) return 'H';
  return 'N';
}

/**
 * Draws a plausible result: mostly within range, some abnormal, and `criticalRate` of the
 * time beyond a critical limit when the analyte has one.
 */
export function drawLabValue(analyte: Analyte, random: Random, criticalRate = 0.02): LabValue {
  const span = analyte.high - analyte.low;
  let value: number;
  if (
    random.chance(criticalRate) &&
    (analyte.criticalLow !== undefined || analyte.criticalHigh !== undefined)
  ) {
    const goHigh =
      analyte.criticalHigh !== undefined && (analyte.criticalLow === undefined || random.chance(0.5));
    value = goHigh
      ? ((analyte.criticalHigh ?? 0) * random.int(101, 115)) / 100
      : ((analyte.criticalLow ?? 0) * random.int(70, 98)) / 100;
  } else if (random.chance(0.15)) {
    value = random.chance(0.5)
      ? analyte.low - (span * random.int(5, 30)) / 100
      : analyte.high + (span * random.int(5, 40)) / 100;
  } else {
    value = random.normal(analyte.low + span / 2, span / 6);
  }
  value = Math.max(0, Number(value.toFixed(analyte.decimals)));
  return { value: value.toFixed(analyte.decimals), flag: flagFor(analyte, value) };
}
