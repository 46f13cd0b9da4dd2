/**
 * How one list element of a resource combines with what is stored, as a FHIR shape the mapper
 * writes on `Bundle.entry.request` and the store reads. HL7 v2 resends only part of a list (a
 * corrected OBX, the current bed): a list element named here is history the store accumulates,
 * not a value each message replaces. The store knows this shape, not the mapping language.
 */

/** Complex extension on `Bundle.entry.request`: one per merged element. */
export const MERGE_EXTENSION = 'urn:care:fhir:merge';

/** How stored and received items of one top-level list element combine. */
export interface ElementMerge {
  /** The top-level list element, e.g. `location`. */
  readonly element: string;
  /**
   * Dotted path inside an item that identifies it (`location.reference`): items with the same
   * value are one item, merged. Unset: an item is identified by its whole content (a union).
   */
  readonly by?: string;
  /**
   * Sub-elements (dotted) a matched stored item keeps when the received item lacks them; every
   * other stored sub-element is dropped. Unset: every stored sub-element is kept (deep merge).
   */
  readonly keep?: readonly string[];
  /** Values set on an item the newer side does not carry (a location the patient left). */
  readonly notSent?: Readonly<Record<string, string>>;
  /**
   * An item the newer side does not carry whose values match all of these is removed instead of
   * getting `notSent`: it never happened (a reserved bed of a cancelled pending transfer).
   */
  readonly drop?: Readonly<Record<string, string>>;
}

/** A sub-extension of the merge extension. */
export type MergeSubExtension =
  | { readonly url: 'element' | 'by' | 'keep'; readonly valueString: string }
  | {
      readonly url: 'notSent' | 'drop';
      readonly extension: readonly { readonly url: string; readonly valueString: string }[];
    };

/** The merge extension as written on a request. */
export interface MergeExtension {
  readonly url: typeof MERGE_EXTENSION;
  readonly extension: readonly MergeSubExtension[];
}

/** The extension that carries one element's merge rule. */
export function mergeExtension(merge: ElementMerge): MergeExtension {
  const parts: MergeSubExtension[] = [{ url: 'element', valueString: merge.element }];
  if (merge.by !== undefined) parts.push({ url: 'by', valueString: merge.by });
  for (const k of merge.keep ?? []) parts.push({ url: 'keep', valueString: k });
  for (const url of ['notSent', 'drop'] as const) {
    const values = Object.entries(merge[url] ?? {});
    if (values.length > 0) {
      parts.push({ url, extension: values.map(([k, valueString]) => ({ url: k, valueString })) });
    }
  }
  return { url: MERGE_EXTENSION, extension: parts };
}

interface LooseExtension {
  readonly url?: unknown;
  readonly valueString?: unknown;
  readonly extension?: unknown;
}

function subExtensions(e: LooseExtension): LooseExtension[] {
  return Array.isArray(e.extension) ? (e.extension as LooseExtension[]) : [];
}

function stringOf(e: LooseExtension): string | undefined {
  return typeof e.valueString === 'string' && e.valueString !== '' ? e.valueString : undefined;
}

/** The element-to-value pairs of the `notSent` or `drop` sub-extensions; undefined when none. */
function valuesOf(
  parts: readonly LooseExtension[],
  url: 'notSent' | 'drop',
): Record<string, string> | undefined {
  const values: Record<string, string> = {};
  for (const p of parts.filter((x) => x.url === url).flatMap(subExtensions)) {
    const value = stringOf(p);
    if (typeof p.url === 'string' && value !== undefined) values[p.url] = value;
  }
  return Object.keys(values).length > 0 ? values : undefined;
}

function readOne(e: LooseExtension): ElementMerge | undefined {
  const parts = subExtensions(e);
  const element = parts.map((p) => (p.url === 'element' ? stringOf(p) : undefined)).find(Boolean);
  if (element === undefined) return undefined;
  const by = parts.map((p) => (p.url === 'by' ? stringOf(p) : undefined)).find(Boolean);
  const keep = parts.filter((p) => p.url === 'keep').flatMap((p) => stringOf(p) ?? []);
  const notSent = valuesOf(parts, 'notSent');
  const drop = valuesOf(parts, 'drop');
  return {
    element,
    ...(by !== undefined ? { by } : {}),
    ...(keep.length > 0 ? { keep } : {}),
    ...(notSent !== undefined ? { notSent } : {}),
    ...(drop !== undefined ? { drop } : {}),
  };
}

/**
 * The merge rules on an entry's request, in order; `undefined` stands for one that names no
 * element, which the reader reports rather than applying half a rule.
 */
export function readMerges(
  request: { readonly extension?: unknown } | undefined,
): (ElementMerge | undefined)[] {
  const list = Array.isArray(request?.extension) ? (request.extension as LooseExtension[]) : [];
  return list.filter((e) => e.url === MERGE_EXTENSION).map(readOne);
}
