/**
 * How a mapped resource updates the stored one. HL7 v2 treats an empty field as "no information",
 * so a thin message (an A03 with only PID-3) must not erase the address or PCP an A01 stored:
 * `merge` keeps stored top-level elements the message does not carry; `replace` writes it whole.
 */

export type UpdateMode = 'replace' | 'merge';

/** Extension on `Bundle.entry.request` carrying the mode from mapper to store. */
export const UPDATE_MODE_EXTENSION = 'urn:care:fhir:update-mode';

/** The mode an entry's request asks for; `replace` when it says nothing. */
export function readUpdateMode(request: { readonly extension?: unknown } | undefined): UpdateMode {
  const list = Array.isArray(request?.extension) ? (request.extension as unknown[]) : [];
  const found = list.find(
    (e): e is { url: string; valueCode: unknown } =>
      typeof e === 'object' && e !== null && (e as { url?: unknown }).url === UPDATE_MODE_EXTENSION,
  );
  return found?.valueCode === 'merge' ? 'merge' : 'replace';
}
