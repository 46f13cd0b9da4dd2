/**
 * Compiles a rule's `defaults:`: elements set on each value its conversion produces that lacks
 * them. A field can mean more than its datatype says (PID-13 is the home phone, which the XTN
 * only says when XTN-2 is sent), and this lets a mapping say so without a conversion per field.
 * Checked against the converted FHIR type, so a misspelt element or code fails the load.
 */
import { at, boundTypeOf, compileCondition } from './compile-context';
import type { CompileContext, RuleSite } from './compile-context';
import { MappingErrorCode } from './mapping-error';
import type { CompiledDefaults, CompiledSource } from './mapping-types';
import type { RawRuleObject } from './raw-mapping';

function checkValues(
  raw: Readonly<Record<string, string>>,
  targetType: string,
  fail: (keys: readonly string[], message: string) => false,
  ctx: CompileContext,
): boolean {
  let ok = true;
  for (const [k, value] of Object.entries(raw)) {
    const info = ctx.schema.element(targetType, k);
    if (info === undefined) {
      ok = fail([k], `defaults: ${targetType} has no element "${k}"`);
    } else if (info.array || ctx.schema.isComplex(info.type)) {
      ok = fail([k], `defaults: ${targetType}.${k} is not a single primitive element`);
    } else if (info.allowed !== undefined && !info.allowed.has(value)) {
      const codes = [...info.allowed].join(', ');
      ok = fail([k], `defaults: "${value}" is not a code of ${targetType}.${k} (${codes})`);
    }
  }
  return ok;
}

/**
 * The rule's `defaults:` and `defaultsWhen:`, or undefined (reported) when they cannot apply.
 * @param obj - the rule as written, with `defaults` set.
 * @param source - the rule's compiled source: a datatype conversion (`from:` with a type).
 * @param targetType - the FHIR type the conversion produces.
 * @param site - the rule's site; problems point at `defaults` or `defaultsWhen`.
 * @param ctx - where problems are reported.
 */
export function compileDefaults(
  obj: RawRuleObject & { readonly defaults: Readonly<Record<string, string>> },
  source: CompiledSource,
  targetType: string,
  site: RuleSite,
  ctx: CompileContext,
): CompiledDefaults | undefined {
  const fail = (keys: readonly string[], message: string): false => {
    ctx.report(MappingErrorCode.UnknownElement, message, at(site, 'defaults', ...keys).origin, site.rule);
    return false;
  };
  if (source.kind !== 'path') {
    fail([], 'defaults: needs from: with a datatype conversion (e.g. type: XTN), whose values it completes');
    return undefined;
  }
  if (!ctx.schema.isComplex(targetType)) {
    fail([], `defaults: ${targetType} has no elements`);
    return undefined;
  }
  if (!checkValues(obj.defaults, targetType, fail, ctx)) return undefined;
  if (obj.defaultsWhen === undefined) return { values: obj.defaults };
  // `$` is each value the rule reads, as in an object: rule with from:.
  const bound: RuleSite = { ...site, bound: true, boundType: boundTypeOf(source.path, site) };
  const when = compileCondition(obj.defaultsWhen, at(bound, 'defaultsWhen'), ctx);
  return when === undefined ? undefined : { values: obj.defaults, when };
}
