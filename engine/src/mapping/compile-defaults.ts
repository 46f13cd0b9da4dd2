/**
 * Compiles a rule's `defaults:`: elements set on each value its conversion produces that lacks
 * them. A field can mean more than its datatype says (PID-13 is the home phone, which the XTN
 * only says when XTN-2 is sent), and this lets a mapping say so without a conversion per field.
 * A default is a constant (`use: home`) or a rule read from the message (`system: { from: MSH-4,
 * type: HD }`: an identifier sent without an assigning authority was assigned by the sender).
 * Checked against the converted FHIR type, so a misspelt element or code fails the load.
 */
import { at, boundTypeOf, compileCondition } from './compile-context';
import type { CompileContext, RuleSite } from './compile-context';
import { MappingErrorCode } from './mapping-error';
import type { CompiledDefault, CompiledDefaults, CompiledRule, CompiledSource } from './mapping-types';
import type { RawRule, RawRuleObject } from './raw-mapping';

/**
 * compile-rule.ts's compileRule, passed in: a rule default is compiled like any rule, and
 * compile-rule.ts imports this file, so importing it back would be a cycle.
 */
export type CompileRuleFn<C extends CompileContext> = (
  raw: RawRule,
  target: { readonly type: string; readonly array: boolean },
  site: RuleSite,
  ctx: C,
) => CompiledRule | undefined;

type Fail = (keys: readonly string[], message: string) => undefined;

/** A constant default: a single primitive element, and one of its codes when it has a value set. */
function compileConstant(
  key: string,
  value: string,
  targetType: string,
  fail: Fail,
  ctx: CompileContext,
): CompiledDefault | undefined {
  const info = ctx.schema.element(targetType, key);
  if (info === undefined) return fail([key], `defaults: ${targetType} has no element "${key}"`);
  if (info.array || ctx.schema.isComplex(info.type)) {
    return fail([key], `defaults: ${targetType}.${key} is not a single primitive element`);
  }
  if (info.allowed !== undefined && !info.allowed.has(value)) {
    const codes = [...info.allowed].join(', ');
    return fail([key], `defaults: "${value}" is not a code of ${targetType}.${key} (${codes})`);
  }
  return { key, value };
}

/**
 * A rule default: any single element (a Reference too), filled by a rule of its own type. `$`
 * is the value being completed, as in `defaultsWhen:`, so a default may read the value's parts.
 */
function compileRuleDefault<C extends CompileContext>(
  key: string,
  raw: RawRuleObject,
  targetType: string,
  bound: RuleSite,
  fail: Fail,
  ctx: C,
  compileRule: CompileRuleFn<C>,
): CompiledDefault | undefined {
  const info = ctx.schema.element(targetType, key);
  if (info === undefined) return fail([key], `defaults: ${targetType} has no element "${key}"`);
  if (info.array) return fail([key], `defaults: ${targetType}.${key} is a list, not a single element`);
  if (raw.to !== undefined && raw.to !== info.type) {
    return fail([key, 'to'], `defaults: ${targetType}.${key} is a ${info.type}, not ${raw.to}`);
  }
  const rule = compileRule(raw, { type: info.type, array: false }, at(bound, 'defaults', key), ctx);
  return rule === undefined ? undefined : { key, rule };
}

/**
 * The rule's `defaults:` and `defaultsWhen:`, or undefined (reported) when they cannot apply.
 * @param obj - the rule as written, with `defaults` set.
 * @param source - the rule's compiled source: a datatype conversion (`from:` with a type).
 * @param targetType - the FHIR type the conversion produces.
 * @param site - the rule's site; problems point at `defaults` or `defaultsWhen`.
 * @param ctx - where problems are reported.
 * @param compileRule - compiles a default written as a rule.
 */
export function compileDefaults<C extends CompileContext>(
  obj: RawRuleObject & { readonly defaults: NonNullable<RawRuleObject['defaults']> },
  source: CompiledSource,
  targetType: string,
  site: RuleSite,
  ctx: C,
  compileRule: CompileRuleFn<C>,
): CompiledDefaults | undefined {
  const fail: Fail = (keys, message) => {
    ctx.report(MappingErrorCode.UnknownElement, message, at(site, 'defaults', ...keys).origin, site.rule);
    return undefined;
  };
  if (source.kind !== 'path') {
    return fail(
      [],
      'defaults: needs from: with a datatype conversion (e.g. type: XTN), whose values it completes',
    );
  }
  if (!ctx.schema.isComplex(targetType)) return fail([], `defaults: ${targetType} has no elements`);
  // `$` is each value the rule reads, as in an object: rule with from:.
  const bound: RuleSite = { ...site, bound: true, boundType: boundTypeOf(source.path, site) };
  const values: CompiledDefault[] = [];
  let ok = true;
  for (const [key, value] of Object.entries(obj.defaults)) {
    const compiled =
      typeof value === 'string'
        ? compileConstant(key, value, targetType, fail, ctx)
        : compileRuleDefault(key, value, targetType, bound, fail, ctx, compileRule);
    if (compiled === undefined) ok = false;
    else values.push(compiled);
  }
  if (!ok) return undefined;
  const rules = values.some((v) => 'rule' in v);
  if (obj.defaultsWhen === undefined) return { values, readsValue: rules };
  const when = compileCondition(obj.defaultsWhen, at(bound, 'defaultsWhen'), ctx);
  return when === undefined ? undefined : { values, readsValue: true, when };
}
