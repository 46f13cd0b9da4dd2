/**
 * Where a rule reads from. Iteration (`forEach`) narrows reading to one segment group or binds
 * one value as `$`; a location is answered by the innermost group that owns its segment.
 */
import type { Hl7Delimiters, Hl7Message, Hl7Segment } from '../hl7/parse-message';
import { getRepetitions } from '../hl7/read-value';
import { Hl7Value } from './hl7-value';
import type { CompiledPath, ForEachLevel } from './mapping-types';

/** A reading context: the whole message, a segment group, or a bound value. */
export interface Scope {
  readonly parent: Scope | undefined;
  readonly message: Hl7Message;
  /** Segment names the group owns; lookups of other names go outwards. */
  readonly members?: ReadonlySet<string>;
  /** The group's own segments (head and direct children). */
  readonly own?: readonly Hl7Segment[];
  /** Segments nested iteration may look into. */
  readonly span: readonly Hl7Segment[];
  /** The head segment of a segment group (OBR for an order), which `ref ... within:` looks for. */
  readonly head?: Hl7Segment;
  /** Where the head is in `span` when leading segments come before it (absent: at 0). */
  readonly headAt?: number;
  readonly bound?: Hl7Value;
  /** Identity of the iteration, used to relate resources (`r/OBR4/OBX6`). */
  readonly key: string;
  /** Message-wide index by segment name, shared by every scope of one message. */
  readonly index: Map<string, Hl7Segment[]>;
  /**
   * Per segment (by its 1-based index), 1 once a rule read one of its fields or iterated it:
   * shared by every scope of one message, so what no rule touched can be listed afterwards.
   */
  readonly read: Uint8Array;
}

/** The scope of a whole message. */
export function rootScope(message: Hl7Message): Scope {
  // Its head is the MSH, so `ref ... within: MSH` means anywhere in the message.
  const head = message.segments[0];
  return {
    parent: undefined,
    message,
    span: message.segments,
    key: 'r',
    index: new Map(),
    ...(head !== undefined ? { head } : {}),
    read: new Uint8Array(message.segments.length + 1),
  };
}

function segmentsNamed(name: string, scope: Scope): readonly Hl7Segment[] {
  for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
    if (s.members?.has(name) === true) return (s.own ?? []).filter((seg) => seg.name === name);
  }
  let list = scope.index.get(name);
  if (list === undefined) {
    list = scope.message.segments.filter((seg) => seg.name === name);
    scope.index.set(name, list);
  }
  return list;
}

function boundValue(scope: Scope): Hl7Value | undefined {
  for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
    if (s.bound !== undefined) return s.bound;
  }
  return undefined;
}

/**
 * A field's repetitions as values, made once per segment: rules read PID-3 or PV1-3 many times
 * (ids, elements, references), and a value keeps its split parts and unescaped text.
 */
const repetitionValues = new WeakMap<Hl7Segment, (readonly Hl7Value[] | undefined)[]>();

function repetitionsOf(seg: Hl7Segment, field: number, d: Hl7Delimiters): readonly Hl7Value[] {
  let fields = repetitionValues.get(seg);
  if (fields === undefined) {
    fields = [];
    repetitionValues.set(seg, fields);
  }
  let reps = fields[field];
  if (reps === undefined) {
    reps = getRepetitions(seg, field, d).map((raw) => new Hl7Value(raw, 0, d));
    fields[field] = reps;
  }
  return reps;
}

/** Empty, HL7 null, or only separators (`^^`): a composite with no content is no value. */
function isEmpty(raw: string | undefined, d: Hl7Delimiters): raw is undefined {
  if (raw === undefined || raw === '' || raw === '""') return true;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charAt(i);
    if (ch !== d.component && ch !== d.subcomponent) return false;
  }
  return true;
}

/** Values at a location; with `all` false, at most the first. */
export function readValues(path: CompiledPath, scope: Scope, all: boolean): Hl7Value[] {
  if (path.kind === 'bound') {
    let v = boundValue(scope);
    if (path.component !== undefined) v = v?.partValue(path.component);
    if (path.subcomponent !== undefined) v = v?.partValue(path.subcomponent);
    return v === undefined ? [] : [v];
  }
  const p = path.path;
  const d = scope.message.delimiters;
  const out: Hl7Value[] = [];
  for (const seg of segmentsNamed(p.segment, scope)) {
    scope.read[seg.index] = 1;
    const reps = repetitionsOf(seg, p.field, d);
    const chosen = p.repetition !== undefined ? [reps[p.repetition - 1]] : reps;
    for (const rep of chosen) {
      let v: Hl7Value | undefined = rep;
      if (v !== undefined && p.component !== undefined) v = v.partValue(p.component);
      if (v !== undefined && p.subcomponent !== undefined) v = v.partValue(p.subcomponent);
      if (v === undefined || isEmpty(v.raw, d)) continue;
      out.push(v);
      if (!all) return out;
    }
  }
  return out;
}

/**
 * True when the field at a location is HL7's explicit null (`""`): the sender says "delete what
 * you have", which is not the same as an empty field ("no information").
 */
export function isExplicitNull(path: CompiledPath, scope: Scope): boolean {
  if (path.kind !== 'hl7') return false;
  const seg = segmentsNamed(path.path.segment, scope)[0];
  if (seg !== undefined) scope.read[seg.index] = 1;
  const reps = seg === undefined ? [] : getRepetitions(seg, path.path.field, scope.message.delimiters);
  return reps.length === 1 && reps[0] === '""';
}

/** The text at a location, unescaped; undefined when empty. */
export function readText(path: CompiledPath, scope: Scope): string | undefined {
  return readValues(path, scope, false)[0]?.text();
}

function segmentGroups(level: Extract<ForEachLevel, { kind: 'segment' }>, scope: Scope): Scope[] {
  const span = scope.span;
  const heads: number[] = [];
  for (let i = 0; i < span.length; i++) {
    if (span[i]?.name === level.segment) heads.push(i);
  }
  if (heads.length === 0) return [];
  // Groups stay on their side of the enclosing group's head: one found among its leading segments
  // (v2.9's ORDER_DOCUMENT before its OBR) ends at that head instead of running into the order.
  const parentHead = scope.headAt;
  const ends = heads.map((start, n) => {
    let end = heads[n + 1] ?? span.length;
    if (parentHead !== undefined && start < parentHead && parentHead < end) end = parentHead;
    if (level.until !== undefined) {
      // The first `until` segment after the head, looked for within the group only.
      for (let i = start + 1; i < end; i++) {
        if (level.until.has(span[i]?.name ?? '')) return i;
      }
    }
    return end;
  });
  const firsts = heads.map((start, n) => {
    const floor = parentHead !== undefined && start > parentHead ? parentHead + 1 : 0;
    return leadingStart(level, span, start, floor, n > 0 ? (ends[n - 1] ?? floor) : floor);
  });
  return heads.map((start, n) => {
    let end = ends[n] ?? span.length;
    // The next group's leading segments (the ORC opening the next order) end this one.
    const next = firsts[n + 1];
    if (next !== undefined && next < end) end = next;
    const first = firsts[n] ?? start;
    // Leading segments are the group's: nested levels look into them too. One slice, the head at
    // `start - first` in it.
    const groupSpan = span.slice(first, end);
    const head = span[start];
    const own: Hl7Segment[] = [];
    for (let i = start; i < end; i++) {
      const seg = span[i];
      if (seg === undefined || (i > start && seg.name === level.nestedHead)) break;
      if (level.members.has(seg.name)) own.push(seg);
    }
    // The head stays first (covers: counts groups by it); the ORC before an OBR joins after it.
    for (let i = first; i < start; i++) {
      const seg = span[i];
      if (seg !== undefined) own.push(seg);
    }
    if (head !== undefined) scope.read[head.index] = 1;
    return {
      parent: scope,
      message: scope.message,
      members: level.scopeMembers,
      own,
      span: groupSpan,
      ...(first < start ? { headAt: start - first } : {}),
      ...(head !== undefined ? { head } : {}),
      key: `${scope.key}/${level.segment}${head?.index ?? start}`,
      index: scope.index,
      read: scope.read,
    };
  });
}

/**
 * Where a group's leading segments (`leading:`) begin: its head's index when it has none. The
 * run of listed segments directly before the head is taken back to `floor`, but never into the
 * earlier group's span (what follows an earlier TXA is that document's, not the next one's):
 * `claimed` is where that span ends. With `openedBy:` the run must reach that segment (the ORC
 * that opens an order) and stops there; the opener always starts a group, so it may cut the
 * earlier group short, and a run that reaches no opener gives none.
 */
function leadingStart(
  level: Extract<ForEachLevel, { kind: 'segment' }>,
  span: readonly Hl7Segment[],
  start: number,
  floor: number,
  claimed: number,
): number {
  const leading = level.leading;
  if (leading === undefined) return start;
  const opener = level.openedBy;
  const bottom = opener !== undefined ? floor : Math.max(floor, claimed);
  let i = start - 1;
  for (; i >= bottom; i--) {
    const name = span[i]?.name ?? '';
    if (name === opener) return i;
    if (!leading.has(name)) break;
  }
  return opener !== undefined ? start : i + 1;
}

/** The innermost enclosing segment group whose head is a segment of this name. */
export function enclosingGroup(scope: Scope, segment: string): Scope | undefined {
  for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
    if (s.head?.name === segment) return s;
  }
  return undefined;
}

/** The number of values (repetitions, across the segments in scope) at a location. */
export function countValues(path: CompiledPath, scope: Scope): number {
  return readValues(path, scope, true).length;
}

/** A scope with one value bound as `$`. */
export function bindValue(scope: Scope, value: Hl7Value, n: number): Scope {
  return {
    parent: scope,
    message: scope.message,
    span: scope.span,
    bound: value,
    key: `${scope.key}/${n}`,
    index: scope.index,
    read: scope.read,
  };
}

/** Every scope the levels produce, outermost level first. */
export function iterateLevels(levels: readonly ForEachLevel[], scope: Scope): Scope[] {
  let scopes = [scope];
  for (const level of levels) {
    const next: Scope[] = [];
    for (const s of scopes) {
      if (level.kind === 'segment') next.push(...segmentGroups(level, s));
      else {
        const values = level.paths.flatMap((p) => readValues(p, s, true));
        values.forEach((v, i) => next.push(bindValue(s, v, i)));
      }
    }
    scopes = next;
  }
  return scopes;
}
