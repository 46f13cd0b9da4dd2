/**
 * How a mapped resource updates the stored one. HL7 v2 treats an empty field as "no information",
 * so a thin message (an A03 with only PID-3) must not erase the address or PCP an A01 stored:
 * `merge` keeps stored top-level elements the message does not carry; `replace` writes it whole.
 * A field sent as `""` (HL7's explicit null) does delete: the element is cleared.
 *
 * These are the directives the mapper writes on `Bundle.entry.request` and the store reads (the
 * update mode, keep-stored, clear, expect-stored; merged lists in merge-directive.ts): a FHIR
 * shape both sides know, so the store depends on no part of the mapping language.
 */
import { mergeExtension, type ElementMerge, type MergeExtension } from './merge-directive';

export type UpdateMode = 'replace' | 'merge';

/** Extension on `Bundle.entry.request` carrying the mode from mapper to store. */
export const UPDATE_MODE_EXTENSION = 'urn:care:fhir:update-mode';
/** Extension naming a top-level element whose stored value wins (it was filled by a fallback). */
export const KEEP_STORED_EXTENSION = 'urn:care:fhir:keep-stored';
/** Extension naming a top-level element the sender deleted (HL7 `""`): merge removes it. */
export const CLEAR_EXTENSION = 'urn:care:fhir:clear';

/**
 * Extension naming a top-level element the stored resource must already hold (`expectStored:`),
 * like a FHIR conditional update's precondition: its `valueString` is the element, its nested
 * `value` extension the JSON the stored element must equal. A mismatch fails the bundle.
 */
export const EXPECT_STORED_EXTENSION = 'urn:care:fhir:expect-stored';

/** An extension on `Bundle.entry.request`, as the mapper writes it. */
export type RequestExtension =
  | { readonly url: typeof UPDATE_MODE_EXTENSION; readonly valueCode: UpdateMode }
  | { readonly url: typeof KEEP_STORED_EXTENSION | typeof CLEAR_EXTENSION; readonly valueString: string }
  | MergeExtension
  | {
      readonly url: typeof EXPECT_STORED_EXTENSION;
      readonly valueString: string;
      readonly extension: readonly [{ readonly url: 'value'; readonly valueString: string }];
    };

/** An element the stored resource must hold, and the value it must hold. */
export interface StoredExpectation {
  readonly element: string;
  readonly value: unknown;
}

/**
 * The request extensions for a mode, the store directives and the rule's merged list elements
 * (fhir/merge-directive.ts); none for a plain PUT. A merge rule goes out whether or not this
 * message fills its element: without it a `replace` update would drop the stored list.
 */
export function requestExtensions(
  mode: UpdateMode,
  directives: { readonly keepStored: readonly string[]; readonly clear: readonly string[] },
  merges: readonly ElementMerge[] = [],
  expected: Readonly<Record<string, unknown>> = {},
): RequestExtension[] {
  const list: RequestExtension[] =
    mode === 'merge' ? [{ url: UPDATE_MODE_EXTENSION, valueCode: 'merge' }] : [];
  for (const element of directives.keepStored) {
    list.push({ url: KEEP_STORED_EXTENSION, valueString: element });
  }
  for (const element of directives.clear) list.push({ url: CLEAR_EXTENSION, valueString: element });
  for (const merge of merges) list.push(mergeExtension(merge));
  for (const [element, value] of Object.entries(expected)) {
    list.push({
      url: EXPECT_STORED_EXTENSION,
      valueString: element,
      extension: [{ url: 'value', valueString: JSON.stringify(value) }],
    });
  }
  return list;
}

function extensionsOf(
  request: { readonly extension?: unknown } | undefined,
): { url?: unknown; valueCode?: unknown; valueString?: unknown; extension?: unknown }[] {
  return Array.isArray(request?.extension) ? (request.extension as { url?: unknown }[]) : [];
}

/** What the stored resource must hold before an entry may be written (`expectStored:`). */
export function readExpectations(request: { readonly extension?: unknown } | undefined): StoredExpectation[] {
  return extensionsOf(request).flatMap((e): StoredExpectation[] => {
    if (e.url !== EXPECT_STORED_EXTENSION || typeof e.valueString !== 'string') return [];
    const inner = extensionsOf(e).find((x) => x.url === 'value');
    if (typeof inner?.valueString !== 'string') return [];
    return [{ element: e.valueString, value: JSON.parse(inner.valueString) as unknown }];
  });
}

/** Top-level elements named by one kind of directive extension on an entry's request. */
export function readDirective(
  request: { readonly extension?: unknown } | undefined,
  url: typeof KEEP_STORED_EXTENSION | typeof CLEAR_EXTENSION,
): string[] {
  return extensionsOf(request)
    .filter((e) => e.url === url && typeof e.valueString === 'string')
    .map((e) => e.valueString as string);
}

/** The mode an entry's request asks for; `replace` when it says nothing. */
export function readUpdateMode(request: { readonly extension?: unknown } | undefined): UpdateMode {
  const found = extensionsOf(request).find((e) => e.url === UPDATE_MODE_EXTENSION);
  return found?.valueCode === 'merge' ? 'merge' : 'replace';
}
