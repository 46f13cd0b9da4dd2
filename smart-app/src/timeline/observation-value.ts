/**
 * An Observation's value and reference range as text, and the number a trend can plot. ORU
 * results arrive as quantities with comparators, ranges, ratios, coded values and free text; each
 * is shown as the lab sent it, and only a plain quantity is trendable.
 */
import type { Observation, Quantity, ReferenceRange } from '../fhir/fhir-resources';
import { conceptText } from './fhir-text';

export interface ObservationValue {
  readonly text: string;
  readonly numeric?: number;
  readonly unit?: string;
}

export interface RangeText {
  readonly text?: string;
  readonly low?: number;
  readonly high?: number;
}

/**
 * The unit as its code (UCUM `mg/dL`) when sent, else its text: feeds spell the same unit
 * differently in text ("milligrams per deciliter"), and a trend must compare like with like.
 */
function unitOf(q: Quantity | undefined): string | undefined {
  const unit = q?.code ?? q?.unit;
  return unit === undefined || unit === '' ? undefined : unit;
}

function quantityText(q: Quantity | undefined): string {
  if (q?.value === undefined) return '';
  const unit = unitOf(q);
  return `${q.comparator ?? ''}${q.value}${unit !== undefined ? ` ${unit}` : ''}`;
}

/** The value as text; `numeric` only for a quantity without a comparator (`<0.5` is not 0.5). */
export function observationValue(o: Observation): ObservationValue {
  const q = o.valueQuantity;
  if (q?.value !== undefined) {
    const unit = unitOf(q);
    return {
      text: quantityText(q),
      ...(q.comparator === undefined ? { numeric: q.value } : {}),
      ...(unit !== undefined ? { unit } : {}),
    };
  }
  if (o.valueString !== undefined) return { text: o.valueString };
  const coded = conceptText(o.valueCodeableConcept);
  if (coded !== undefined) return { text: coded };
  if (o.valueDateTime !== undefined) return { text: o.valueDateTime };
  if (o.valueRange !== undefined) {
    const low = o.valueRange.low?.value;
    const high = o.valueRange.high?.value;
    const unit = unitOf(o.valueRange.high) ?? unitOf(o.valueRange.low);
    return { text: `${low ?? ''}–${high ?? ''}${unit !== undefined ? ` ${unit}` : ''}` };
  }
  if (o.valueRatio !== undefined) {
    return { text: `${o.valueRatio.numerator?.value ?? ''}:${o.valueRatio.denominator?.value ?? ''}` };
  }
  return { text: '' };
}

/** The first reference range: the lab's text when sent, else built from low and high. */
export function referenceRangeText(ranges: readonly ReferenceRange[] | undefined): RangeText {
  const r = ranges?.[0];
  if (r === undefined) return {};
  const low = r.low?.value;
  const high = r.high?.value;
  const unit = unitOf(r.high) ?? unitOf(r.low);
  const suffix = unit !== undefined ? ` ${unit}` : '';
  let text = r.text;
  if (text === undefined || text === '') {
    if (low !== undefined && high !== undefined) text = `${low}–${high}${suffix}`;
    else if (low !== undefined) text = `≥ ${low}${suffix}`;
    else if (high !== undefined) text = `≤ ${high}${suffix}`;
  }
  return {
    ...(text !== undefined && text !== '' ? { text } : {}),
    ...(low !== undefined ? { low } : {}),
    ...(high !== undefined ? { high } : {}),
  };
}
