/**
 * Person and contact datatypes (XPN, XCN's name, XAD, XTN) to HumanName, Address and
 * ContactPoint, following the V2-to-FHIR datatype maps; use codes go through code tables.
 */
import type { ConvertContext } from './conversion-types';
import { toFhirDate } from './convert-datetime';
import type { Hl7Value } from './hl7-value';

function compact<T>(values: readonly (T | undefined)[]): T[] {
  return values.filter((v): v is T => v !== undefined);
}

function lookupTarget(table: string, code: string | undefined, ctx: ConvertContext): string | undefined {
  return code === undefined ? undefined : ctx.tables.get(table)?.lookup(code)?.target;
}

function periodOf(start: string | undefined, end: string | undefined): object | undefined {
  const s = start !== undefined ? toFhirDate(start) : undefined;
  const e = end !== undefined ? toFhirDate(end) : undefined;
  if (s === undefined && e === undefined) return undefined;
  return { ...(s !== undefined ? { start: s } : {}), ...(e !== undefined ? { end: e } : {}) };
}

interface NameParts {
  family?: string | undefined;
  given: (string | undefined)[];
  prefix?: string | undefined;
  suffix: (string | undefined)[];
  use?: string | undefined;
  period?: object | undefined;
}

function humanName(p: NameParts): object | undefined {
  const given = compact(p.given);
  const suffix = compact(p.suffix);
  if (p.family === undefined && given.length === 0) return undefined;
  return {
    ...(p.use !== undefined ? { use: p.use } : {}),
    ...(p.family !== undefined ? { family: p.family } : {}),
    ...(given.length > 0 ? { given } : {}),
    ...(p.prefix !== undefined ? { prefix: [p.prefix] } : {}),
    ...(suffix.length > 0 ? { suffix } : {}),
    ...(p.period !== undefined ? { period: p.period } : {}),
  };
}

/** XPN to HumanName: XPN.1.1 family, XPN.2/3 given, XPN.4/6 suffix, XPN.5 prefix, XPN.7 use (table v2-0200). */
export function xpnToHumanName(v: Hl7Value, ctx: ConvertContext): object | undefined {
  return humanName({
    family: v.sub(1, 1),
    given: [v.part(2), v.part(3)],
    prefix: v.part(5),
    suffix: [v.part(4), v.part(6)],
    use: lookupTarget('v2-0200', v.part(7), ctx),
    period: periodOf(v.sub(10, 1) ?? v.part(12), v.sub(10, 2) ?? v.part(13)),
  });
}

/** XCN to HumanName: the name starts at XCN.2 (XCN.1 is the person's id). */
export function xcnToHumanName(v: Hl7Value, ctx: ConvertContext): object | undefined {
  return humanName({
    family: v.sub(2, 1),
    given: [v.part(3), v.part(4)],
    prefix: v.part(6),
    suffix: [v.part(5), v.part(7)],
    use: lookupTarget('v2-0200', v.part(10), ctx),
  });
}

/** XCN as display text, e.g. "Dr. Kathleen Woolfson". */
export function xcnToText(v: Hl7Value): string | undefined {
  const text = compact([v.part(6), v.part(3), v.part(4), v.sub(2, 1), v.part(5)]).join(' ');
  return text === '' ? v.part(1) : text;
}

/** XAD to Address: street lines, city, state, postal code, country; XAD.7 as use and type. */
export function xadToAddress(v: Hl7Value, ctx: ConvertContext): object | undefined {
  // Guide, XAD[Address] and SAD[Address]: SAD.1 street, SAD.2 street name and SAD.3 dwelling number
  // are lines 1-3; XAD.2 (other designation) the next.
  const line = compact([v.sub(1, 1), v.sub(1, 2), v.sub(1, 3), v.part(2)]);
  const fields: Record<string, string | undefined> = {
    use: lookupTarget('v2-0190', v.part(7), ctx),
    type: lookupTarget('v2-0190-type', v.part(7), ctx),
    city: v.part(3),
    district: v.part(9),
    state: v.part(4),
    postalCode: v.part(5),
    country: v.part(6),
  };
  const present = Object.entries(fields).filter(([, x]) => x !== undefined);
  if (line.length === 0 && !present.some(([k]) => k !== 'use' && k !== 'type')) return undefined;
  const validity = periodOf(v.part(13), v.part(14));
  return {
    ...Object.fromEntries(present.filter(([k]) => k === 'use' || k === 'type')),
    ...(line.length > 0 ? { line } : {}),
    ...Object.fromEntries(present.filter(([k]) => k !== 'use' && k !== 'type')),
    ...(validity !== undefined ? { period: validity } : {}),
  };
}

/** Guide, XTN[ContactPoint]: the unformatted number (XTN.12) wins over the parts (XTN.5-8), then XTN.1. */
function phoneNumber(v: Hl7Value): string | undefined {
  const unformatted = v.part(12);
  if (unformatted !== undefined) return unformatted;
  const local = v.part(7);
  if (local === undefined) return v.part(1);
  const country = v.part(5);
  const area = v.part(6);
  const ext = v.part(8);
  const number = compact([
    country !== undefined ? `+${country}` : undefined,
    area !== undefined ? `(${area})` : undefined,
    local,
  ]);
  return `${number.join(' ')}${ext !== undefined ? ` ext. ${ext}` : ''}`;
}

/** XTN to ContactPoint: email from XTN.4 (Internet), else the phone number; XTN.2 use, XTN.3 system. */
export function xtnToContactPoint(v: Hl7Value, ctx: ConvertContext): object | undefined {
  const equipment = v.part(3);
  const email = v.part(4);
  const isEmail =
    equipment?.toUpperCase() === 'INTERNET' ||
    equipment?.toUpperCase() === 'X.400' ||
    (email !== undefined && v.part(7) === undefined && v.part(1) === undefined);
  const value = isEmail ? email : phoneNumber(v);
  if (value === undefined) return undefined;
  const row = equipment !== undefined ? ctx.tables.get('v2-0202')?.lookup(equipment) : undefined;
  const rowIsUse = row?.system.endsWith('contact-point-use') === true;
  const system = isEmail ? 'email' : rowIsUse || row === undefined ? 'phone' : row.target;
  const use = rowIsUse ? row.target : lookupTarget('v2-0201', v.part(2), ctx);
  return { system, value, ...(use !== undefined ? { use } : {}) };
}
