/**
 * What compiling needs besides the file being compiled: the FHIR schema, the code tables and a
 * sink for problems, so compilation reports every problem instead of stopping at the first.
 */
import { parseHl7Path } from '../hl7/read-value';
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
    return {
      kind: 'bound',
      text,
      ...(comp !== undefined ? { component: Number(comp) } : {}),
      ...(sub !== undefined ? { subcomponent: Number(sub) } : {}),
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
  return { kind: 'hl7', text, path };
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
  if (raw.not !== undefined) {
    return wrap(compileCondition(raw.not, at(site, 'not'), ctx), (c) => ({ kind: 'not', condition: c }));
  }
  if (raw.all !== undefined) return wrap(list(raw.all, 'all'), (cs) => ({ kind: 'all', conditions: cs }));
  if (raw.any !== undefined) return wrap(list(raw.any, 'any'), (cs) => ({ kind: 'any', conditions: cs }));
  return undefined;
}

function wrap<T>(v: T | undefined, f: (v: T) => CompiledCondition): CompiledCondition | undefined {
  return v === undefined ? undefined : f(v);
}

/** Compiles forEach levels; the returned flag says whether a field level binds `$`. */
export function compileLevels(
  raw: readonly RawLevel[] | undefined,
  site: RuleSite,
  ctx: CompileContext,
): { levels: ForEachLevel[]; bound: boolean } {
  const levels: ForEachLevel[] = [];
  let bound = site.bound;
  (raw ?? []).forEach((level, i) => {
    if (level.segment !== undefined) {
      const next = raw?.[i + 1]?.segment;
      levels.push({
        kind: 'segment',
        segment: level.segment,
        members: new Set([level.segment, ...(level.children ?? [])]),
        ...(next !== undefined ? { nestedHead: next } : {}),
        ...(level.until !== undefined ? { until: new Set(level.until) } : {}),
        ...(level.leading !== undefined ? { leading: new Set(level.leading) } : {}),
      });
      return;
    }
    const fields = typeof level.field === 'string' ? [level.field] : (level.field ?? []);
    const paths = fields.map((f, j) => compilePath(f, at({ ...site, bound }, i, 'field', j), ctx));
    levels.push({ kind: 'field', paths: paths.filter((p) => p !== undefined) });
    bound = true;
  });
  return { levels, bound };
}
