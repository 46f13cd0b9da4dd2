/**
 * Preconditions on a stored version (`urn:care:fhir:expect-stored`, written by a mapping's
 * `expectStored:`): an entry that would change a resource not holding what the sender says it
 * holds is refused, like a FHIR conditional update whose condition fails. An A45 moves a visit
 * only away from the patient the sender names, so one patient's visit never lands silently on
 * another's chart because a visit number was reused or mistyped.
 */
import type { StoredExpectation } from '../fhir/store-directives';
import type { BundleHooks } from './bundle-hooks';
import type { Queryable } from './db';
import { normalizeReference } from './fhir-index-values';
import { asString, field, type JsonObject } from './fhir-json';
import { FhirStoreError, FhirStoreErrorCode } from './fhir-store-error';
import type { CurrentVersion } from './fhir-version-writer';

/** A reference compares by its normalised `Type/id`; anything else by its JSON. */
function sameElement(stored: unknown, wanted: unknown): boolean {
  const refOf = (v: unknown): string | undefined => {
    const r = asString(field(v, 'reference'));
    return r === undefined ? undefined : (normalizeReference(r) ?? r);
  };
  const [a, b] = [refOf(stored), refOf(wanted)];
  if (a !== undefined || b !== undefined) return a === b;
  return JSON.stringify(stored) === JSON.stringify(wanted);
}

const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

/**
 * Throws when `current` does not hold an expected element. The expected value goes through the
 * bundle's `prepare` hook as bodies do, so a merged patient compares as its survivor, which is
 * what the stored resource names after the merge re-pointed it. A deleted version holds nothing
 * to protect and is not checked.
 * @param tx - the bundle's transaction.
 * @param hooks - the bundle's hooks (patient merges).
 * @param entry - the resource written and what it expects.
 * @param current - the stored version, locked.
 * @throws FhirStoreError `conflict` naming the element, what is stored and what was expected.
 */
export async function checkExpectations(
  tx: Queryable,
  hooks: BundleHooks,
  entry: { readonly type: string; readonly id: string; readonly expect: readonly StoredExpectation[] },
  current: CurrentVersion,
): Promise<void> {
  if (current.deleted) return;
  for (const { element, value } of entry.expect) {
    const probe = { resourceType: entry.type, [element]: value } as JsonObject;
    const wanted = hooks.prepare === undefined ? probe : await hooks.prepare(tx, probe);
    const held = current.resource[element];
    if (sameElement(held, wanted[element])) continue;
    throw new FhirStoreError(
      FhirStoreErrorCode.Conflict,
      `${entry.type}/${entry.id} holds ${element} ${show(held)}, not ${show(wanted[element])} as the message requires: not written`,
      `${entry.type}.${element}`,
    );
  }
}
