/**
 * Combines a stored list element with the one a message brings, under the element's merge rule
 * (fhir/merge-directive.ts). Pure, so the rule that decides what a correction or a transfer keeps
 * is tested without a database. Event time, not arrival, decides which side wins: an older
 * message only fills gaps in newer state and never takes a value back.
 */
import type { ElementMerge } from '../fhir/merge-directive';
import { asList, asObject, canonicalJson, type JsonObject } from './fhir-json';

/** The two lists to combine, and which is from the later event. */
export interface MergeSides {
  readonly stored: unknown;
  readonly received: unknown;
  /** True when the message's event is no older than the stored version's. */
  readonly receivedIsNewer: boolean;
}

function valueAt(item: unknown, path: readonly string[]): unknown {
  let cur: unknown = item;
  for (const k of path) cur = asObject(cur)?.[k];
  return cur;
}

function withValueAt(item: JsonObject, path: readonly string[], value: unknown): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return item;
  const inner = rest.length === 0 ? value : withValueAt(asObject(item[head]) ?? {}, rest, value);
  return { ...item, [head]: inner };
}

/** An item's identity: its key value when the rule has one and the item carries it, else its content. */
function identityOf(item: unknown, by: readonly string[] | undefined): string {
  const key = by === undefined ? undefined : valueAt(item, by);
  return key === undefined ? `content:${canonicalJson(item)}` : `key:${canonicalJson(key)}`;
}

/** `newer` over `older`, objects merged element by element; a list or a scalar is taken whole. */
function deepMerge(older: unknown, newer: unknown): unknown {
  const a = asObject(older);
  const b = asObject(newer);
  if (a === undefined || b === undefined) return newer === undefined ? older : newer;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(a[k], v);
  return out;
}

/** The newer item, with the `keep` sub-elements the older one has and the newer lacks. */
function keepFrom(older: unknown, newer: unknown, keep: readonly string[]): unknown {
  const b = asObject(newer);
  if (b === undefined || asObject(older) === undefined) return newer;
  let out: JsonObject = b;
  for (const path of keep.map((p) => p.split('.'))) {
    const kept = valueAt(older, path);
    if (kept !== undefined && valueAt(out, path) === undefined) out = withValueAt(out, path, kept);
  }
  return out;
}

function combine(older: unknown, newer: unknown, rule: ElementMerge): unknown {
  return rule.keep === undefined ? deepMerge(older, newer) : keepFrom(older, newer, rule.keep);
}

function withNotSent(item: unknown, rule: ElementMerge): unknown {
  const obj = asObject(item);
  return obj === undefined || rule.notSent === undefined ? item : { ...obj, ...rule.notSent };
}

/** True when the rule's `drop` values all match the item's: an unsent item that is removed. */
function isDropped(item: unknown, rule: ElementMerge): boolean {
  const obj = asObject(item);
  if (obj === undefined || rule.drop === undefined) return false;
  return Object.entries(rule.drop).every(([k, v]) => obj[k] === v);
}

/** An item only the older side has: removed when `drop` matches it, else given `notSent`. */
function unsent(item: unknown, rule: ElementMerge): unknown[] {
  return isDropped(item, rule) ? [] : [withNotSent(item, rule)];
}

/** Items by identity, first occurrence only: a message naming one place twice (PV1-3 = PV1-6) lists it once. */
function byIdentity(items: readonly unknown[], by: readonly string[] | undefined): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const item of items) {
    const id = identityOf(item, by);
    if (!map.has(id)) map.set(id, item);
  }
  return map;
}

/**
 * The merged list: every stored item, in stored order, then the received items the store did not
 * have. An item on both sides is one item, the newer side's values winning (`keep` limits what
 * the older side contributes). An item only the older side has is kept, with `notSent` applied:
 * the newer state does not name it any more (the patient left that bed); one that matches `drop`
 * is removed instead, as what it recorded never happened (a bed only reserved, then cancelled).
 * Nothing else is removed.
 * @param rule - the element's merge rule.
 * @param sides - the stored and received values of the element, and which is newer.
 * @returns the list to store.
 */
export function mergeLists(rule: ElementMerge, sides: MergeSides): unknown[] {
  const by = rule.by?.split('.');
  const stored = byIdentity(asList(sides.stored), by);
  const received = byIdentity(asList(sides.received), by);
  const out: unknown[] = [];
  for (const [id, item] of stored) {
    const other = received.get(id);
    if (other === undefined) {
      out.push(...(sides.receivedIsNewer ? unsent(item, rule) : [item]));
    } else {
      out.push(sides.receivedIsNewer ? combine(item, other, rule) : combine(other, item, rule));
    }
  }
  for (const [id, item] of received) {
    if (!stored.has(id)) out.push(...(sides.receivedIsNewer ? [item] : unsent(item, rule)));
  }
  return out;
}
