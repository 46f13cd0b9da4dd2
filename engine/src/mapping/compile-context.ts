/**
 * What compiling needs besides the file being compiled: the FHIR schema, the code tables and a
 * sink for problems, so compilation reports every problem instead of stopping at the first.
 */
import { parseHl7Path } from '../hl7/read-value';
import {
  locationProblem,
  locationType,
  partProblem,
  partType,
  segmentProblem,
  type BoundType,
} from './check-location';
import type { CodeTable } from './code-tables';
import type { FhirSchemaIndex } from './fhir-schema-index';
import { MappingErrorCode } from './mapping-error';
import type { CompiledCondition, CompiledPath, ForEachLevel } from './mapping-types';
import type { RawCondition, RawLevel, RawOrigin } from './raw-mapping';

/** Shared by every compile step of one load. */
export interface CompileContext {
  readonly schema: FhirSchemaIndex;
  readonly tables: ReadonlyMap<string, CodeTable>;
  /** Records a problem at a node of a file; the loader turns the pointer into a line. */
  report(code: MappingErrorCode, message: string, origin: RawOrigin, rule?: string): void;
}

/** Where in the files a rule is being compiled, and whether `$` is bound there. */
export interface RuleSite {
  readonly origin: RawOrigin;
  /** `<resource>.<element>` for messages. */
  readonly rule: string;
  readonly bound: boolean;
  /** What `$` holds here, when a from: or forEach field names it. */
  readonly boundType?: BoundType;
}

/** The site one step deeper in the file. */
export function at(site: RuleSite, ...keys: (string | number)[]): RuleSite {
  return { ...site, origin: { file: site.origin.file, pointer: [...site.origin.pointer, ...keys] } };
}

const BOUND = /^\$(?:\.(\d+))?(?:\.(\d+))?$/;

/** Compiles a location; reports and returns undefined when it is not one. */
export function compilePath(text: string, site: RuleSite, ctx: CompileContext): CompiledPath | undefined {
  const bound = BOUND.exec(text);
  if (bound) {
    if (!site.bound) {
      ctx.report(
        MappingErrorCode.BadPath,
        `"${text}" refers to $, but no from: or forEach field binds it here`,
        site.origin,
        site.rule,
      );
      return undefined;
    }
    const [, comp, sub] = bound;
    const component = comp !== undefined ? Number(comp) : undefined;
    const subcomponent = sub !== undefined ? Number(sub) : undefined;
    const of = site.boundType;
    const problem = of !== undefined ? partProblem(of.of, of.datatype, component, subcomponent) : undefined;
    if (of !== undefined && problem !== undefined) {
      const where = `${text} is ${of.of}${text.slice(1)}`;
      ctx.report(MappingErrorCode.UnknownLocation, `${where}: ${problem}`, site.origin, site.rule);
      return undefined;
    }
    return {
      kind: 'bound',
      text,
      ...(component !== undefined ? { component } : {}),
      ...(subcomponent !== undefined ? { subcomponent } : {}),
    };
  }
  const path = parseHl7Path(text);
  if (
    path === undefined ||
    path.field < 1 ||
    path.repetition === 0 ||
    path.component === 0 ||
    path.subcomponent === 0
  ) {
    ctx.report(
      MappingErrorCode.BadPath,
      `"${text}" is not an HL7 location like PID-3, PID-5.1 or PID-3[2].4.1`,
      site.origin,
      site.rule,
    );
    return undefined;
  }
  const problem = locationProblem(path);
  if (problem !== undefined) {
    ctx.report(MappingErrorCode.UnknownLocation, problem, site.origin, site.rule);
    return undefined;
  }
  return { kind: 'hl7', text, path };
}

/**
 * What `$` holds inside a rule that binds the value of `path` (a from: with object: or ref:, a
 * forEach field): its location and, when the dictionary knows it, its data type.
 */
export function boundTypeOf(path: CompiledPath, site: RuleSite): BoundType {
  if (path.kind === 'hl7') return { of: path.text, ...locationType(path.path) };
  const outer = site.boundType;
  const of = `${outer?.of ?? '$'}${path.text.slice(1)}`;
  return { of, ...(outer !== undefined ? partType(outer, path.component, path.subcomponent) : {}) };
}

/**
 * Reports a segment name (of a forEach level, `covers:`, `ignoreSegments:`) that is no HL7 segment;
 * false when it reported one.
 */
export function checkSegment(name: string, site: RuleSite, ctx: CompileContext): boolean {
  const problem = segmentProblem(name);
  if (problem !== undefined) ctx.report(MappingErrorCode.UnknownLocation, problem, site.origin, site.rule);
  return problem === undefined;
}

/** Compiles a `when:` condition; undefined when it has errors (already reported). */
export function compileCondition(
  raw: RawCondition,
  site: RuleSite,
  ctx: CompileContext,
): CompiledCondition | undefined {
  const path = (t: string, key: string): CompiledPath | undefined => compilePath(t, at(site, key), ctx);
  const list = (items: readonly RawCondition[], key: string): CompiledCondition[] | undefined => {
    const out = items.map((c, i) => compileCondition(c, at(site, key, i), ctx));
    return out.every((c) => c !== undefined) ? out : undefined;
  };
  if (raw.exists !== undefined) return wrap(path(raw.exists, 'exists'), (p) => ({ kind: 'exists', path: p }));
  if (raw.missing !== undefined) {
    return wrap(path(raw.missing, 'missing'), (p) => ({
      kind: 'not',
      condition: { kind: 'exists', path: p },
    }));
  }
  if (raw.equals !== undefined) {
    const value = raw.equals[1];
    return wrap(path(raw.equals[0], 'equals'), (p) => ({ kind: 'in', path: p, values: new Set([value]) }));
  }
  if (raw.in !== undefined) {
    const values = new Set(raw.in[1]);
    return wrap(path(raw.in[0], 'in'), (p) => ({ kind: 'in', path: p, values }));
  }
  if (raw.repeats !== undefined) {
    return wrap(path(raw.repeats, 'repeats'), (p) => ({ kind: 'repeats', path: p }));
  }
  if (raw.inTable !== undefined) {
    const [location, name] = raw.inTable;
    const table = ctx.tables.get(name);
    if (table === undefined) {
      ctx.report(
        MappingErrorCode.UnknownTable,
        `no code table "${name}" in codes/`,
        at(site, 'inTable').origin,
        site.rule,
      );
    }
    return wrap(path(location, 'inTable'), (p) =>
      table === undefined ? undefined : { kind: 'inTable', path: p, table },
    );
  }
  if (raw.some !== undefined) {
    const inner = at(site, 'some');
    const { levels, bound, boundType } = compileLevels(raw.some.forEach, at(inner, 'forEach'), ctx);
    const whenSite: RuleSite = {
      ...at(inner, 'when'),
      bound,
      ...(boundType !== undefined ? { boundType } : {}),
    };
    return wrap(compileCondition(raw.some.when, whenSite, ctx), (c) => ({
      kind: 'some',
      levels,
      condition: c,
    }));
  }
  if (raw.not !== undefined) {
    return wrap(compileCondition(raw.not, at(site, 'not'), ctx), (c) => ({ kind: 'not', condition: c }));
  }
  if (raw.all !== undefined) return wrap(list(raw.all, 'all'), (cs) => ({ kind: 'all', conditions: cs }));
  if (raw.any !== undefined) return wrap(list(raw.any, 'any'), (cs) => ({ kind: 'any', conditions: cs }));
  return undefined;
}

function wrap<T>(
  v: T | undefined,
  f: (v: T) => CompiledCondition | undefined,
): CompiledCondition | undefined {
  return v === undefined ? undefined : f(v);
}

/** Compiles forEach levels; the returned flag says whether a field level binds `$`. */
export function compileLevels(
  raw: readonly RawLevel[] | undefined,
  site: RuleSite,
  ctx: CompileContext,
): { levels: ForEachLevel[]; bound: boolean; boundType?: BoundType } {
  const levels: ForEachLevel[] = [];
  let bound = site.bound;
  let boundType = site.boundType;
  (raw ?? []).forEach((level, i) => {
    if (level.segment !== undefined) {
      checkSegment(level.segment, at(site, i, 'segment'), ctx);
      (level.children ?? []).forEach((c, j) => checkSegment(c, at(site, i, 'children', j), ctx));
      (level.until ?? []).forEach((u, j) => checkSegment(u, at(site, i, 'until', j), ctx));
      (level.leading ?? []).forEach((l, j) => checkSegment(l, at(site, i, 'leading', j), ctx));
      if (level.openedBy !== undefined && level.leading?.includes(level.openedBy) !== true) {
        ctx.report(
          MappingErrorCode.SchemaViolation,
          `openedBy: ${level.openedBy} must be one of the level's leading: segments`,
          at(site, i, 'openedBy').origin,
          site.rule,
        );
      }
      const next = raw?.[i + 1]?.segment;
      const members = new Set([level.segment, ...(level.children ?? [])]);
      levels.push({
        kind: 'segment',
        segment: level.segment,
        members,
        scopeMembers: level.leading !== undefined ? new Set([...members, ...level.leading]) : members,
        ...(next !== undefined ? { nestedHead: next } : {}),
        ...(level.until !== undefined ? { until: new Set(level.until) } : {}),
        ...(level.leading !== undefined ? { leading: new Set(level.leading) } : {}),
        ...(level.openedBy !== undefined ? { openedBy: level.openedBy } : {}),
      });
      return;
    }
    const fields = typeof level.field === 'string' ? [level.field] : (level.field ?? []);
    const inner: RuleSite = { ...site, bound, ...(boundType !== undefined ? { boundType } : {}) };
    const paths = fields.map((f, j) => compilePath(f, at(inner, i, 'field', j), ctx));
    const compiled = paths.filter((p) => p !== undefined);
    levels.push({ kind: 'field', paths: compiled });
    bound = true;
    // Several fields bind one $: its type is known only when they agree (PV1-7 and PV1-8 are XCN).
    const types = compiled.map((p) => boundTypeOf(p, inner));
    const first = types[0];
    boundType = first !== undefined && types.every((t) => t.datatype === first.datatype) ? first : undefined;
  });
  return { levels, bound, ...(boundType !== undefined ? { boundType } : {}) };
}
