/**
 * Reading values at HL7 locations (`PID-3`, `PID-5.1`, `PID-3[2].4.1`). Repetitions, components
 * and subcomponents are split on demand and escape sequences resolved last.
 */
import type { Hl7Delimiters, Hl7Message, Hl7Segment } from './parse-message';

/** A location inside a segment. Numbers are 1-based, as analysts write them. */
export interface Hl7Path {
  readonly segment: string;
  readonly field: number;
  /** undefined: the first repetition. */
  readonly repetition?: number;
  readonly component?: number;
  readonly subcomponent?: number;
}

const PATH = /^([A-Z][A-Z0-9]{2})-(\d+)(?:\[(\d+)\])?(?:\.(\d+))?(?:\.(\d+))?$/;

/** Parses `SEG-F[R].C.S`; returns undefined for text that is not a location. */
export function parseHl7Path(text: string): Hl7Path | undefined {
  const m = PATH.exec(text.trim());
  if (!m) return undefined;
  const [, segment = '', field, rep, comp, sub] = m;
  return {
    segment,
    field: Number(field),
    ...(rep !== undefined ? { repetition: Number(rep) } : {}),
    ...(comp !== undefined ? { component: Number(comp) } : {}),
    ...(sub !== undefined ? { subcomponent: Number(sub) } : {}),
  };
}

/** Segments with the given name, in message order. */
export function getSegments(message: Hl7Message, name: string): Hl7Segment[] {
  return message.segments.filter((s) => s.name === name);
}

/** Raw text of each repetition of a field (MSH-2 is never split: it holds the separators). */
export function getRepetitions(segment: Hl7Segment, field: number, d: Hl7Delimiters): string[] {
  const raw = segment.fields[field];
  if (raw === undefined || raw === '') return [];
  if (segment.name === 'MSH' && field <= 2) return [raw];
  return raw.split(d.repetition);
}

/** Component n (1-based) of a raw field or repetition; raw text, still escaped. */
export function getComponent(raw: string, n: number, d: Hl7Delimiters): string {
  if (n === 1 && !raw.includes(d.component)) return raw;
  return raw.split(d.component)[n - 1] ?? '';
}

/** Subcomponent n (1-based) of a raw component. */
export function getSubcomponent(raw: string, n: number, d: Hl7Delimiters): string {
  if (n === 1 && !raw.includes(d.subcomponent)) return raw;
  return raw.split(d.subcomponent)[n - 1] ?? '';
}

/**
 * The unescaped value at a path within one segment, or undefined when empty.
 * Without a component the whole repetition is returned, still joined by its delimiters.
 */
export function readSegmentValue(segment: Hl7Segment, path: Hl7Path, d: Hl7Delimiters): string | undefined {
  const rep = getRepetitions(segment, path.field, d)[(path.repetition ?? 1) - 1];
  if (rep === undefined || rep === '') return undefined;
  if (path.component === undefined) return nonEmpty(unescapeHl7(rep, d));
  const comp = getComponent(rep, path.component, d);
  if (path.subcomponent === undefined) return nonEmpty(unescapeHl7(comp, d));
  return nonEmpty(unescapeHl7(getSubcomponent(comp, path.subcomponent, d), d));
}

/** The value at a path in the first segment of its kind. */
export function readValue(message: Hl7Message, path: Hl7Path | string): string | undefined {
  const p = typeof path === 'string' ? parseHl7Path(path) : path;
  if (p === undefined) return undefined;
  const seg = message.segments.find((s) => s.name === p.segment);
  return seg === undefined ? undefined : readSegmentValue(seg, p, message.delimiters);
}

function nonEmpty(v: string): string | undefined {
  // `""` is HL7's explicit null; for reading it is "no value".
  return v === '' || v === '""' ? undefined : v;
}

/** Resolves \F\ \S\ \T\ \R\ \E\ and \.br\ / \X..\ escapes; leaves unknown ones as text. */
export function unescapeHl7(text: string, d: Hl7Delimiters): string {
  if (!text.includes(d.escape)) return text;
  const e = d.escape;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    const end = ch === e ? text.indexOf(e, i + 1) : -1;
    if (end < 0) {
      out += ch;
      i++;
      continue;
    }
    const code = text.slice(i + 1, end);
    out += resolveEscape(code, d) ?? `${e}${code}${e}`;
    i = end + 1;
  }
  return out;
}

function resolveEscape(code: string, d: Hl7Delimiters): string | undefined {
  switch (code) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case '.br':
      return '\n';
    default:
      if (/^X([0-9A-Fa-f]{2})+$/.test(code)) return Buffer.from(code.slice(1), 'hex').toString('latin1');
      return undefined;
  }
}
