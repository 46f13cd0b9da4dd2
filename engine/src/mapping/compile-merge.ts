/**
 * Compiles a resource rule's `merge:`: the list elements the store accumulates across messages.
 * Each element, and the paths and values inside its items, is checked against the FHIR schema,
 * so a typo fails at load instead of silently letting a message replace the history.
 */
import type { ElementMerge } from '../fhir/merge-directive';
import type { CompileContext } from './compile-context';
import { MappingErrorCode } from './mapping-error';
import type { RawElementMerge, RawOrigin, RawResourceEntry } from './raw-mapping';

interface MergeSite {
  readonly origin: RawOrigin;
  readonly rule: string;
  readonly ctx: CompileContext;
}

function fail(site: MergeSite, keys: readonly (string | number)[], message: string): false {
  const origin = { file: site.origin.file, pointer: [...site.origin.pointer, ...keys] };
  site.ctx.report(MappingErrorCode.UnknownElement, message, origin, site.rule);
  return false;
}

/** True when every step of a dotted path is an element, starting from `itemType`. */
function checkPath(site: MergeSite, itemType: string, path: string, keys: (string | number)[]): boolean {
  let owner = itemType;
  for (const k of path.split('.')) {
    const info = site.ctx.schema.element(owner, k);
    if (info === undefined) return fail(site, keys, `${owner} has no element "${k}" (in ${path})`);
    owner = info.type;
  }
  return true;
}

/** `notSent:` and `drop:` name single primitive elements of the item, with codes of their value set. */
function checkValues(
  site: MergeSite,
  itemType: string,
  option: 'notSent' | 'drop',
  values: Readonly<Record<string, string>>,
  keys: readonly (string | number)[],
): boolean {
  let ok = true;
  for (const [k, value] of Object.entries(values)) {
    const info = site.ctx.schema.element(itemType, k);
    if (info === undefined || info.array || site.ctx.schema.isComplex(info.type)) {
      ok = fail(site, [...keys, option, k], `${option}: ${itemType}.${k} is not a single primitive element`);
    } else if (info.allowed !== undefined && !info.allowed.has(value)) {
      const codes = [...info.allowed].join(', ');
      ok = fail(
        site,
        [...keys, option, k],
        `${option}: "${value}" is not a code of ${itemType}.${k} (${codes})`,
      );
    }
  }
  return ok;
}

function compileOne(
  site: MergeSite,
  resourceType: string,
  element: string,
  raw: RawElementMerge,
): ElementMerge | undefined {
  const keys = ['merge', element];
  const info = site.ctx.schema.element(resourceType, element);
  if (info === undefined || !info.array) {
    const why =
      info === undefined ? `${resourceType} has no element "${element}"` : `${element} is not a list`;
    fail(site, keys, `merge: ${why}`);
    return undefined;
  }
  if (raw === 'union') return { element };
  let ok = checkPath(site, info.type, raw.by, [...keys, 'by']);
  (raw.keep ?? []).forEach((path, i) => {
    ok = checkPath(site, info.type, path, [...keys, 'keep', i]) && ok;
  });
  if (raw.notSent !== undefined) ok = checkValues(site, info.type, 'notSent', raw.notSent, keys) && ok;
  if (raw.drop !== undefined) ok = checkValues(site, info.type, 'drop', raw.drop, keys) && ok;
  if (!ok) return undefined;
  return {
    element,
    by: raw.by,
    ...(raw.keep !== undefined ? { keep: raw.keep } : {}),
    ...(raw.notSent !== undefined ? { notSent: raw.notSent } : {}),
    ...(raw.drop !== undefined ? { drop: raw.drop } : {}),
  };
}

/**
 * The merge rules of a resource rule's layers, one per element: a later layer (a sender file, an
 * event's mapping extending a shared rule) replaces an element's rule and leaves the others.
 * @param layers - the rule's layers, base first.
 * @param resourceType - the FHIR type the rule produces.
 * @param ctx - where problems are reported.
 * @returns the rules that compiled, in the order their elements were first named.
 */
export function compileMerges(
  layers: readonly RawResourceEntry[],
  resourceType: string,
  ctx: CompileContext,
): ElementMerge[] {
  const byElement = new Map<string, ElementMerge | undefined>();
  for (const layer of layers) {
    const site: MergeSite = { origin: layer.origin, rule: layer.raw.name, ctx };
    for (const [element, raw] of Object.entries(layer.raw.merge ?? {})) {
      byElement.set(element, compileOne(site, resourceType, element, raw));
    }
  }
  return [...byElement.values()].filter((m): m is ElementMerge => m !== undefined);
}
