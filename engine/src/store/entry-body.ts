/**
 * The body an entry stores over the current version: the update mode, the store directives the
 * mapper attached (keep-stored, clear, merged lists) and, for an entry older than what is
 * stored, the little it may still add. Kept apart from the write path so that is about locking
 * and versions only.
 */
import type { ElementMerge } from '../fhir/merge-directive';
import type { UpdateMode } from '../fhir/store-directives';
import type { BundleHooks } from './bundle-hooks';
import type { JsonObject } from './fhir-json';
import { hashBody, type CurrentVersion } from './fhir-version-writer';
import { mergeLists } from './merge-lists';

/** What an entry's request asks of the store beyond writing its resource. */
export interface EntryDirectives {
  /** `merge`: stored top-level elements the entry does not carry are kept. */
  readonly update: UpdateMode;
  /** Top-level elements whose stored value wins over the entry's (filled by a fallback). */
  readonly keepStored: readonly string[];
  /** Top-level elements the sender deleted (HL7 `""`): not kept from the stored version. */
  readonly clear: readonly string[];
  /** List elements combined item by item with the stored ones, whatever `update` says. */
  readonly merges: readonly ElementMerge[];
}

/** The body to store: the message's resource, over the stored one's top-level elements in merge mode. */
export function withUpdateMode(
  entry: EntryDirectives,
  current: CurrentVersion,
  received: JsonObject,
): JsonObject {
  if (current.deleted) return received;
  const { meta: _meta, ...stored } = current.resource;
  const body = entry.update === 'merge' ? { ...stored, ...received } : { ...received };
  for (const element of entry.clear) Reflect.deleteProperty(body, element);
  for (const element of entry.keepStored) {
    if (stored[element] !== undefined) body[element] = stored[element];
  }
  for (const rule of entry.merges) {
    const sent = received[rule.element];
    // A merged list is history: a message that says nothing of it keeps it, and HL7 `""` (the
    // current value is gone) ends the stored items through `notSent` rather than erasing them.
    if (sent === undefined && !entry.clear.includes(rule.element)) {
      if (stored[rule.element] !== undefined) body[rule.element] = stored[rule.element];
      continue;
    }
    const merged = mergeLists(rule, { stored: stored[rule.element], received: sent, receivedIsNewer: true });
    if (merged.length > 0) body[rule.element] = merged;
  }
  return body;
}

/**
 * The body to store for an entry older than the stored version, or undefined to skip it as out
 * of order: what a hook says must hold (a late patient merge), and the entry's merged lists,
 * which it may extend but not take back (a late A02 adds the bed and the times the A03 lacked).
 */
export function lateBody(
  entry: EntryDirectives,
  current: CurrentVersion,
  received: JsonObject,
  lateWrite: BundleHooks['lateWrite'],
): JsonObject | undefined {
  const hooked = lateWrite?.(current, received);
  if (current.deleted || entry.merges.length === 0) return hooked;
  const { meta: _meta, ...base } = hooked ?? current.resource;
  const body: Record<string, unknown> = { ...base };
  for (const rule of entry.merges) {
    const sent = received[rule.element];
    if (sent === undefined) continue;
    body[rule.element] = mergeLists(rule, {
      stored: base[rule.element],
      received: sent,
      receivedIsNewer: false,
    });
  }
  if (hooked === undefined && hashBody(body, false) === current.contentHash) return undefined;
  return body;
}
