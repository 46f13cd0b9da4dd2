/**
 * Numeric HL7 datatypes (NM, SN, reference range text) to FHIR decimal, Quantity, Range and
 * Ratio. Units come from the rule's `unit:` location (OBX-6). A unit is coded UCUM only when the
 * sender said UCUM or the code is valid UCUM; otherwise it keeps the sender's system, or is text.
 */
import type { ConvertContext } from './conversion-types';
import { codingSystem } from './convert-codes';
import type { Hl7Value } from './hl7-value';
import { isUcumCode } from './ucum-units';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const UCUM = 'http://unitsofmeasure.org';
/** Unit spellings to UCUM codes (mappings/codes/ucum-units.csv). */
const UCUM_UNITS_TABLE = 'ucum-units';
const COMPARATORS = new Set(['<', '<=', '>=', '>']);

/** A decimal from NM text, or undefined when the text is not a plain number. */
export function parseDecimal(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  return NUMBER.test(t) ? Number(t) : undefined;
}

/**
 * The unit part of a Quantity from a CWE unit (OBX-6), coded UCUM when it can be: the sender said
 * UCUM (CWE-3); else `codes/ucum-units.csv` gives the UCUM code of a spelling feeds use
 * (`beats/min`, `mmHg`, and `K/uL`, which is valid UCUM for kelvin per microliter); else the code
 * is valid UCUM and no other system is named. Otherwise the sender's named system, or none: the
 * code stays the unit's text (FHIR allows a code only with its system).
 */
export function unitOf(unit: Hl7Value | undefined, ctx: ConvertContext): Record<string, string> {
  if (unit === undefined) return {};
  const code = unit.part(1);
  const text = unit.part(2) ?? code;
  const systemName = unit.part(3);
  const coded = ((): { system: string; code: string } | undefined => {
    if (code === undefined) return undefined;
    if (systemName?.toUpperCase() === 'UCUM') return { system: UCUM, code };
    const alias = ctx.tables.get(UCUM_UNITS_TABLE)?.lookup(code);
    if (alias !== undefined) return { system: alias.system, code: alias.target };
    if (systemName === undefined) return isUcumCode(code) ? { system: UCUM, code } : undefined;
    const system = codingSystem(systemName, ctx);
    return system === undefined ? undefined : { system, code };
  })();
  return { ...(text !== undefined ? { unit: text } : {}), ...(coded ?? {}) };
}

function quantity(value: number, ctx: ConvertContext, comparator?: string): object {
  return { value, ...(comparator !== undefined ? { comparator } : {}), ...unitOf(ctx.unit, ctx) };
}

/** NM to decimal. */
export function nmToDecimal(v: Hl7Value): number | undefined {
  return parseDecimal(v.text());
}

/** NM to integer (undefined for a fraction). */
export function nmToInteger(v: Hl7Value): number | undefined {
  const n = parseDecimal(v.text());
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

/** NM to Quantity with the rule's unit. */
export function nmToQuantity(v: Hl7Value, ctx: ConvertContext): object | undefined {
  const n = parseDecimal(v.text());
  return n === undefined ? undefined : quantity(n, ctx);
}

interface StructuredNumeric {
  readonly comparator?: string | undefined;
  readonly n1?: number | undefined;
  readonly separator?: string | undefined;
  readonly n2?: number | undefined;
}

function readSn(v: Hl7Value): StructuredNumeric {
  return {
    comparator: v.part(1),
    n1: parseDecimal(v.part(2)),
    separator: v.part(3),
    n2: parseDecimal(v.part(4)),
  };
}

/** SN `[comparator]^number` to Quantity; undefined for ranges and ratios. */
export function snToQuantity(v: Hl7Value, ctx: ConvertContext): object | undefined {
  const sn = readSn(v);
  if (sn.n1 === undefined || sn.separator !== undefined || sn.n2 !== undefined) return undefined;
  if (sn.comparator === undefined || sn.comparator === '=') return quantity(sn.n1, ctx);
  return COMPARATORS.has(sn.comparator) ? quantity(sn.n1, ctx, sn.comparator) : undefined;
}

/** SN `^n1^-^n2` to Range. */
export function snToRange(v: Hl7Value, ctx: ConvertContext): object | undefined {
  const sn = readSn(v);
  if (sn.separator !== '-' || sn.n1 === undefined || sn.n2 === undefined) return undefined;
  return { low: quantity(sn.n1, ctx), high: quantity(sn.n2, ctx) };
}

/** SN `^n1^:^n2` or `^n1^/^n2` to Ratio. */
export function snToRatio(v: Hl7Value): object | undefined {
  const sn = readSn(v);
  if ((sn.separator !== ':' && sn.separator !== '/') || sn.n1 === undefined || sn.n2 === undefined) {
    return undefined;
  }
  return { numerator: { value: sn.n1 }, denominator: { value: sn.n2 } };
}

/** SN as readable text, e.g. `>= 10` or `1:128`. */
export function snToString(v: Hl7Value): string | undefined {
  const parts = [v.part(1), v.part(2), v.part(3), v.part(4)].filter((p) => p !== undefined);
  return parts.length === 0 ? undefined : parts.join('').trim();
}

const RANGE = /^\s*([+-]?[\d.]+)\s*-\s*([+-]?[\d.]+)\s*$/;
const BOUND = /^\s*(<=?|>=?)\s*([+-]?[\d.]+)\s*$/;

/** OBX-7 reference range text (`3.5-5.0`, `<5`, `>=10`) to an Observation.referenceRange. */
export function textToReferenceRange(v: Hl7Value, ctx: ConvertContext): object | undefined {
  const text = v.text();
  if (text === undefined) return undefined;
  const range = RANGE.exec(text);
  const low = parseDecimal(range?.[1]);
  const high = parseDecimal(range?.[2]);
  if (low !== undefined && high !== undefined) {
    return { low: quantity(low, ctx), high: quantity(high, ctx), text };
  }
  const bound = BOUND.exec(text);
  const n = parseDecimal(bound?.[2]);
  if (n === undefined) return { text };
  return bound?.[1]?.startsWith('<') === true
    ? { high: quantity(n, ctx), text }
    : { low: quantity(n, ctx), text };
}
