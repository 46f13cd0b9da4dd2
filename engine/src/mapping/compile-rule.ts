/**
 * Compiles element rules: resolves each element against the FHIR schema, picks the datatype
 * conversion for the element's type and checks tables and references, reporting every problem.
 */
import { at, boundTypeOf, compileCondition, compileLevels, compilePath } from './compile-context';
import type { CompileContext, RuleSite } from './compile-context';
import { compileDefaults } from './compile-defaults';
import { canonicalHl7Type, defaultHl7Type, findConverter, STRING_TYPES } from './conversions';
import { encodeBase64 } from './convert-attachments';
import { MappingErrorCode } from './mapping-error';
import type {
  CompiledElement,
  CompiledPath,
  CompiledRule,
  CompiledSource,
  ForEachLevel,
} from './mapping-types';
import type { RawElements, RawRule, RawRuleObject } from './raw-mapping';

/** The FHIR type a rule fills, and whether it is a list. */
export interface RuleTarget {
  readonly type: string;
  readonly array: boolean;
}

/** The names of the resource rules a reference may point at, for checking `ref:`. */
export interface RuleNames {
  readonly ruleNames: ReadonlySet<string>;
  /** Rules of files that failed to load (already reported), which a reference is not blamed for. */
  readonly unavailable?: UnavailableRules;
}

/** Rule names a mapping would have had but for files that failed, each already reported. */
export interface UnavailableRules {
  readonly names: ReadonlySet<string>;
  /** True when a file whose names could not be read (invalid YAML, a missing include) failed. */
  readonly unknown: boolean;
}

const TABLE_TARGETS = new Set(['code', 'string', 'Coding', 'CodeableConcept']);

function isRuleList(v: RawRule | readonly RawRule[] | null): v is readonly RawRule[] {
  return Array.isArray(v);
}

/** Compiles one rule for a target; undefined when it has errors (reported). */
export function compileRule(
  raw: RawRule,
  target: RuleTarget,
  site: RuleSite,
  ctx: CompileContext & RuleNames,
): CompiledRule | undefined {
  const obj: RawRuleObject = typeof raw === 'string' ? { from: raw } : raw;
  if (obj.to !== undefined) target = { type: obj.to, array: false };
  const binds = obj.object !== undefined || (obj.from !== undefined && obj.ref !== undefined);
  const { levels, bound, boundType } = compileLevels(obj.forEach, at(site, 'forEach'), ctx);
  const inner: RuleSite = {
    ...site,
    bound: bound || binds,
    ...(boundType !== undefined ? { boundType } : {}),
  };
  const compiled = compileSource(obj, target, levels, site, inner, ctx);
  if (compiled === undefined) return undefined;
  if (obj.defaultsWhen !== undefined && obj.defaults === undefined) {
    const message = 'defaultsWhen: says which values get the defaults: it needs defaults:';
    ctx.report(MappingErrorCode.UnknownElement, message, at(site, 'defaultsWhen').origin, site.rule);
    return undefined;
  }
  const defaults =
    obj.defaults !== undefined
      ? compileDefaults({ ...obj, defaults: obj.defaults }, compiled, target.type, site, ctx, compileRule)
      : undefined;
  if (obj.defaults !== undefined && defaults === undefined) return undefined;
  const source = compiled.kind === 'path' && defaults !== undefined ? { ...compiled, defaults } : compiled;
  const when = obj.when !== undefined ? compileCondition(obj.when, at(inner, 'when'), ctx) : undefined;
  const otherwise = obj.else !== undefined ? compileRule(obj.else, target, at(site, 'else'), ctx) : undefined;
  return {
    source,
    where: `${site.origin.file}#${site.rule}`,
    ...(when !== undefined ? { when } : {}),
    ...(otherwise !== undefined ? { otherwise } : {}),
    ...(obj.as !== undefined ? { as: obj.as } : {}),
    ...(obj.keepStored === true ? { keepStored: true } : {}),
  };
}

function compileSource(
  obj: RawRuleObject,
  target: RuleTarget,
  levels: readonly ForEachLevel[],
  site: RuleSite,
  inner: RuleSite,
  ctx: CompileContext & RuleNames,
): CompiledSource | undefined {
  const fail = (code: MappingErrorCode, message: string, key: string): undefined => {
    ctx.report(code, message, at(site, key).origin, site.rule);
    return undefined;
  };
  if (obj.ref !== undefined) {
    if (!ctx.ruleNames.has(obj.ref)) {
      // A rule of a file that failed is not missing: its file's problem is the one to fix.
      const u = ctx.unavailable;
      if (u !== undefined && (u.unknown || u.names.has(obj.ref))) return undefined;
      return fail(MappingErrorCode.UnknownRule, `no resource rule named "${obj.ref}"`, 'ref');
    }
    if (target.type !== 'Reference') {
      return fail(
        MappingErrorCode.UnsupportedConversion,
        `ref: fills a Reference, not ${target.type}`,
        'ref',
      );
    }
    const from = obj.from !== undefined ? compilePath(obj.from, at(site, 'from'), ctx) : undefined;
    return {
      kind: 'ref',
      target: obj.ref,
      forEach: levels,
      ...(from !== undefined ? { from } : {}),
      ...(obj.within !== undefined ? { within: obj.within } : {}),
    };
  }
  if (obj.refAll === true) {
    if (target.type !== 'Reference' || !target.array) {
      return fail(MappingErrorCode.UnsupportedConversion, 'refAll: fills a list of Reference', 'refAll');
    }
    return { kind: 'refAll' };
  }
  if (obj.object !== undefined) {
    if (!ctx.schema.isComplex(target.type)) {
      return fail(MappingErrorCode.UnsupportedConversion, `object: cannot fill ${target.type}`, 'object');
    }
    const from = obj.from !== undefined ? compilePath(obj.from, at(site, 'from'), ctx) : undefined;
    const within: RuleSite = from !== undefined ? { ...inner, boundType: boundTypeOf(from, site) } : inner;
    const elements = compileElements(obj.object, target.type, at(within, 'object'), ctx);
    return { kind: 'object', elements, forEach: levels, ...(from !== undefined ? { from } : {}) };
  }
  if (obj.value !== undefined) return { kind: 'const', value: obj.value };
  if (obj.template !== undefined) return compileTemplate(obj.template, at(site, 'template'), ctx);
  if (obj.context !== undefined) return { kind: 'context', key: obj.context };
  if (obj.from === undefined) return undefined;
  return compilePathSource(obj, obj.from, target, levels, site, ctx);
}

function compilePathSource(
  obj: RawRuleObject,
  from: string,
  target: RuleTarget,
  levels: readonly ForEachLevel[],
  site: RuleSite,
  ctx: CompileContext,
): CompiledSource | undefined {
  const path = compilePath(from, at(site, 'from'), ctx);
  const hl7Type = obj.type ?? defaultHl7Type(target.type);
  // Lines joined into base64Binary (a TX document) are joined as text and encoded once: encoding
  // each line and joining the encodings would not decode to the text.
  const joinedBinary = obj.join !== undefined && target.type === 'base64Binary';
  // With a table the code is translated; the datatype conversion is the fallback for a CodeableConcept.
  const convert =
    (joinedBinary ? findConverter(hl7Type, 'string') : findConverter(hl7Type, target.type)) ??
    (obj.table !== undefined ? findConverter('CWE', target.type) : undefined);
  if (convert === undefined) {
    ctx.report(
      MappingErrorCode.UnsupportedConversion,
      `no conversion from HL7 ${hl7Type} to FHIR ${target.type}`,
      at(site, 'type').origin,
      site.rule,
    );
    return undefined;
  }
  const table = obj.table !== undefined ? ctx.tables.get(obj.table) : undefined;
  if (obj.table !== undefined && table === undefined) {
    ctx.report(
      MappingErrorCode.UnknownTable,
      `no code table "${obj.table}" in codes/`,
      at(site, 'table').origin,
      site.rule,
    );
    return undefined;
  }
  if (table !== undefined && !TABLE_TARGETS.has(target.type) && !STRING_TYPES.has(target.type)) {
    ctx.report(
      MappingErrorCode.UnsupportedConversion,
      `table: cannot fill ${target.type}`,
      at(site, 'table').origin,
      site.rule,
    );
    return undefined;
  }
  const unit = obj.unit !== undefined ? compilePath(obj.unit, at(site, 'unit'), ctx) : undefined;
  const minutes =
    obj.plusMinutes !== undefined
      ? compilePlusMinutes(obj.plusMinutes, hl7Type, target, site, ctx)
      : undefined;
  if (path === undefined || (obj.plusMinutes !== undefined && minutes === undefined)) return undefined;
  return {
    kind: 'path',
    path,
    convert,
    keepOriginal: obj.keepOriginal === true,
    hl7Type: canonicalHl7Type(hl7Type),
    targetType: target.type,
    ...(table !== undefined ? { table } : {}),
    forEach: levels,
    ...(unit !== undefined ? { unit } : {}),
    ...(minutes !== undefined ? { plusMinutes: minutes } : {}),
    ...(obj.join !== undefined ? { join: obj.join } : {}),
    ...(joinedBinary ? { encodeJoined: encodeBase64 } : {}),
  };
}

const TIME_TARGETS = new Set(['dateTime', 'instant']);

/** `plusMinutes:` adds to a time: a DTM (or TS) read into a dateTime or instant. */
function compilePlusMinutes(
  location: string,
  hl7Type: string,
  target: RuleTarget,
  site: RuleSite,
  ctx: CompileContext,
): CompiledPath | undefined {
  if (canonicalHl7Type(hl7Type) !== 'DTM' || !TIME_TARGETS.has(target.type)) {
    ctx.report(
      MappingErrorCode.UnsupportedConversion,
      `plusMinutes: adds minutes to a time (type: DTM into dateTime or instant), not HL7 ${hl7Type} into FHIR ${target.type}`,
      at(site, 'plusMinutes').origin,
      site.rule,
    );
    return undefined;
  }
  return compilePath(location, at(site, 'plusMinutes'), ctx);
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

function compileTemplate(text: string, site: RuleSite, ctx: CompileContext): CompiledSource | undefined {
  const parts: (string | CompiledPath)[] = [];
  let last = 0;
  let ok = true;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const path = compilePath(m[1] ?? '', site, ctx);
    if (path === undefined) ok = false;
    else parts.push(path);
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return ok ? { kind: 'template', parts } : undefined;
}

interface ResolvedKey {
  readonly keys: string[];
  readonly owner: string;
  readonly target?: RuleTarget;
  readonly allowed?: ReadonlySet<string>;
  readonly choicePrefix?: string;
}

function resolveKey(
  key: string,
  ownerType: string,
  site: RuleSite,
  ctx: CompileContext,
): ResolvedKey | undefined {
  const keys = key.split('.');
  let owner = ownerType;
  for (const [i, k] of keys.entries()) {
    const last = i === keys.length - 1;
    if (last && k.endsWith('[x]')) {
      const prefix = k.slice(0, -3);
      if (ctx.schema.choices(owner, prefix).length > 0) return { keys, owner, choicePrefix: prefix };
    }
    const info = ctx.schema.element(owner, k);
    if (info === undefined) {
      ctx.report(MappingErrorCode.UnknownElement, `${owner} has no element "${k}"`, site.origin, site.rule);
      return undefined;
    }
    if (last) {
      const target = { type: info.type, array: info.array };
      return { keys, owner, target, ...(info.allowed !== undefined ? { allowed: info.allowed } : {}) };
    }
    if (info.array || !ctx.schema.isComplex(info.type)) {
      const why = info.array ? 'is a list: fill it with object:' : 'has no elements';
      ctx.report(MappingErrorCode.UnknownElement, `${owner}.${k} ${why}`, site.origin, site.rule);
      return undefined;
    }
    owner = info.type;
  }
  return undefined;
}

function choiceTarget(
  rule: RawRule,
  r: ResolvedKey,
  site: RuleSite,
  ctx: CompileContext,
): RuleTarget | undefined {
  const as = typeof rule === 'string' ? undefined : rule.as;
  const type = as !== undefined ? ctx.schema.choiceType(r.owner, r.choicePrefix ?? '', as) : undefined;
  if (type === undefined) {
    const options = ctx.schema.choices(r.owner, r.choicePrefix ?? '').join(', ');
    ctx.report(
      MappingErrorCode.UnknownElement,
      `a rule of a choice element needs as: one of ${options}`,
      site.origin,
      site.rule,
    );
    return undefined;
  }
  return { type, array: false };
}

/** Compiles an `elements:` map against the FHIR type that owns it. */
export function compileElements(
  raw: RawElements,
  ownerType: string,
  site: RuleSite,
  ctx: CompileContext & RuleNames,
): CompiledElement[] {
  const out: CompiledElement[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const esite: RuleSite = { ...at(site, key), rule: `${site.rule}.${key}` };
    const resolved = resolveKey(key, ownerType, esite, ctx);
    if (resolved === undefined) continue;
    const list = value === null ? [] : isRuleList(value) ? value : [value];
    const rules: CompiledRule[] = [];
    list.forEach((rule, i) => {
      const rsite = isRuleList(value) ? at(esite, i) : esite;
      const target = resolved.target ?? choiceTarget(rule, resolved, rsite, ctx);
      const compiled = target !== undefined ? compileRule(rule, target, rsite, ctx) : undefined;
      if (compiled !== undefined) rules.push(compiled);
    });
    const required = list.some((rule) => typeof rule === 'object' && rule.required === true);
    out.push({
      key: resolved.keys,
      array: resolved.target?.array ?? false,
      choice: resolved.choicePrefix !== undefined,
      rules,
      ...(required ? { required: true as const } : {}),
      ...(resolved.allowed !== undefined ? { allowed: resolved.allowed } : {}),
    });
  }
  return out;
}
