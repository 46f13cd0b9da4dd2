/**
 * Coded and identifying HL7 datatypes (CWE/CE, HD, CX, DLN, EI, XCN's identifier) to FHIR Coding,
 * CodeableConcept, Identifier and system URIs, following the V2-to-FHIR datatype maps.
 */
import type { ConvertContext } from './conversion-types';
import type { Hl7Value } from './hl7-value';

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const URI = /^(https?|urn):\S+$/i;
const HL7_TABLE = /^HL7-?(\d{4})$/i;
const NPI = 'http://hl7.org/fhir/sid/us-npi';

/**
 * The system URI for an assigning authority given as namespace, universal id and its type:
 * a known authority from the `identifier-systems` table, then `urn:oid:`, `urn:uuid:`, a URI as
 * sent, else `urn:care:id:<namespace>`.
 */
export function authoritySystem(
  ns: string | undefined,
  uid: string | undefined,
  ctx: ConvertContext,
): string | undefined {
  const known = ctx.tables.get('identifier-systems');
  for (const key of [uid, ns]) {
    if (key === undefined) continue;
    const row = known?.lookup(key);
    if (row !== undefined) return row.target;
  }
  if (uid !== undefined) {
    if (OID.test(uid)) return `urn:oid:${uid}`;
    if (UUID.test(uid)) return `urn:uuid:${uid.toLowerCase()}`;
    if (URI.test(uid)) return uid;
  }
  if (ns === undefined) return undefined;
  if (OID.test(ns)) return `urn:oid:${ns}`;
  if (URI.test(ns)) return ns;
  return `urn:care:id:${encodeURIComponent(ns)}`;
}

/** HD as a system URI. */
export function hdToSystem(hd: Hl7Value | undefined, ctx: ConvertContext): string | undefined {
  if (hd === undefined) return undefined;
  return authoritySystem(hd.part(1), hd.part(2), ctx);
}

/** HD as an Identifier: the universal id when there is one, else the namespace. */
export function hdToIdentifier(hd: Hl7Value, ctx: ConvertContext): object | undefined {
  const uid = hd.part(2);
  if (uid !== undefined) {
    const system = authoritySystem(undefined, uid, ctx);
    return { system: 'urn:ietf:rfc:3986', value: system ?? uid };
  }
  const ns = hd.part(1);
  return ns === undefined ? undefined : { value: ns };
}

/** A coding system name from HL7 table 0396 (LN, SCT, HL70001 ...) as a URI. */
export function codingSystem(name: string | undefined, ctx: ConvertContext): string | undefined {
  if (name === undefined) return undefined;
  const row = ctx.tables.get('coding-systems')?.lookup(name);
  if (row !== undefined) return row.target;
  const table = HL7_TABLE.exec(name);
  if (table) return `http://terminology.hl7.org/CodeSystem/v2-${table[1] ?? ''}`;
  return URI.test(name) ? name : undefined;
}

function coding(v: Hl7Value, first: number, ctx: ConvertContext): Record<string, string> | undefined {
  const code = v.part(first);
  if (code === undefined) return undefined;
  const system = codingSystem(v.part(first + 2), ctx);
  const display = v.part(first + 1);
  const version = first === 1 ? v.part(7) : v.part(8);
  return {
    ...(system !== undefined ? { system } : {}),
    ...(version !== undefined && system !== undefined ? { version } : {}),
    code,
    ...(display !== undefined ? { display } : {}),
  };
}

/** CWE/CE/CNE to Coding: the primary triplet, else the alternate. */
export function cweToCoding(v: Hl7Value, ctx: ConvertContext): object | undefined {
  return coding(v, 1, ctx) ?? coding(v, 4, ctx);
}

/** CWE/CE/CNE to CodeableConcept: both triplets as codings, original text as text. */
export function cweToCodeableConcept(v: Hl7Value, ctx: ConvertContext): object | undefined {
  const codings = [coding(v, 1, ctx), coding(v, 4, ctx)].filter((c) => c !== undefined);
  const text = v.part(9) ?? (codings.length === 0 ? (v.part(2) ?? v.part(1)) : undefined);
  if (codings.length === 0 && text === undefined) return undefined;
  return { ...(codings.length > 0 ? { coding: codings } : {}), ...(text !== undefined ? { text } : {}) };
}

/** An identifier type code (table 0203) as a CodeableConcept. */
export function identifierType(code: string | undefined, ctx: ConvertContext): object | undefined {
  if (code === undefined) return undefined;
  const row = ctx.tables.get('v2-0203')?.lookup(code);
  if (row === undefined) return { text: code };
  return {
    coding: [{ system: row.system, code: row.target, ...(row.display ? { display: row.display } : {}) }],
  };
}

function period(start: string | undefined, end: string | undefined): object | undefined {
  if (start === undefined && end === undefined) return undefined;
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}

/** Assembles an Identifier, dropping empty parts. */
export function identifier(
  value: string | undefined,
  system: string | undefined,
  type: object | undefined,
  validity?: object,
): object | undefined {
  if (value === undefined) return undefined;
  return {
    ...(type !== undefined ? { type } : {}),
    ...(system !== undefined ? { system } : {}),
    value,
    ...(validity !== undefined ? { period: validity } : {}),
  };
}

/** CX to Identifier: CX.1 value, CX.4 (else CX.9/CX.10) authority as system, CX.5 type, CX.7/8 period. */
export function cxToIdentifier(
  v: Hl7Value,
  ctx: ConvertContext,
  toDate: (t: string) => string | undefined,
): object | undefined {
  const system =
    hdToSystem(v.partValue(4), ctx) ?? hdToSystem(v.partValue(9), ctx) ?? hdToSystem(v.partValue(10), ctx);
  const start = v.part(7);
  const end = v.part(8);
  const validity = period(
    start !== undefined ? toDate(start) : undefined,
    end !== undefined ? toDate(end) : undefined,
  );
  return identifier(v.part(1), system, identifierType(v.part(5), ctx), validity);
}

/**
 * DLN to Identifier (guide DLN[Identifier]): DLN.1 value typed DL, DLN.3 expiry as period.end.
 * The guide reads DLN.2 (issuing state, a CWE) as the system URI; a state code is no URI, so it
 * resolves like an assigning authority: a row in `identifier-systems` (a state's OID), else
 * `urn:care:id:<code>`.
 */
export function dlnToIdentifier(
  v: Hl7Value,
  ctx: ConvertContext,
  toDate: (t: string) => string | undefined,
): object | undefined {
  const issuer = v.partValue(2);
  const system = authoritySystem(issuer?.part(1) ?? issuer?.part(4), undefined, ctx);
  const expiry = v.part(3);
  const end = expiry !== undefined ? toDate(expiry) : undefined;
  return identifier(v.part(1), system, identifierType('DL', ctx), period(undefined, end));
}

/** XCN's identifier system: NPI when XCN.13 says so, else the XCN.9 authority. */
export function xcnSystem(v: Hl7Value, ctx: ConvertContext): string | undefined {
  if (v.part(13)?.toUpperCase() === 'NPI') return NPI;
  return hdToSystem(v.partValue(9), ctx);
}

/** XCN to Identifier (the person's id, e.g. an NPI as `http://hl7.org/fhir/sid/us-npi`). */
export function xcnToIdentifier(v: Hl7Value, ctx: ConvertContext): object | undefined {
  return identifier(v.part(1), xcnSystem(v, ctx), identifierType(v.part(13), ctx));
}

/** EI to Identifier: EI.1 with EI.2/EI.3 as the assigning authority. */
export function eiToIdentifier(v: Hl7Value, ctx: ConvertContext): object | undefined {
  return identifier(v.part(1), authoritySystem(v.part(2), v.part(3), ctx), undefined);
}
