/**
 * Patient merges (ADT A40): the merged Patient arrives inactive with a `replaced-by` link, and
 * everything that names it as its patient (`subject`/`patient`; a Coverage's beneficiary,
 * subscriber, policy holder or payor) moves to the survivor, so a PCP sees one timeline. Later messages still carrying the old identity are redirected the same way. It
 * takes part in a bundle's write through the store's hooks; the store knows none of this.
 */
import type { BundleHooks, ResourceChange } from '../store/bundle-hooks';
import type { Queryable } from '../store/db';
import { asList, asString, field, type JsonObject } from '../store/fhir-json';
import { normalizeReference } from '../store/fhir-index-values';
import { PATIENT_LINK_PARAMS, patientLinksOf } from '../store/fhir-patient-links';
import { hashBody, lockCurrent, writeVersion, type CurrentVersion } from '../store/fhir-version-writer';

/** The elements of `body` that may name its patient (store/fhir-search-params.ts). */
function patientElementsOf(body: JsonObject): string[] {
  const type = typeof body['resourceType'] === 'string' ? body['resourceType'] : '';
  return patientLinksOf(type).map((l) => l.element);
}

/** Chains longer than this are treated as a loop in the data, not followed further. */
const MAX_CHAIN = 10;

/** The survivor's id when `patient` is an inactive Patient `replaced-by` another. */
export function survivorOf(patient: JsonObject): string | undefined {
  if (patient['resourceType'] !== 'Patient' || patient['active'] !== false) return undefined;
  for (const link of asList(patient['link'])) {
    if (field(link, 'type') !== 'replaced-by') continue;
    const ref = asString(field(field(link, 'other'), 'reference'));
    const normalized = ref === undefined ? undefined : normalizeReference(ref);
    if (normalized?.startsWith('Patient/') === true) return normalized.slice('Patient/'.length);
  }
  return undefined;
}

/**
 * A copy of `body` with its patient references (`subject`/`patient`, or its type's own, such as
 * a Coverage's beneficiary and subscriber) to `Patient/from` pointing at `Patient/to`.
 */
export function repointBody(body: JsonObject, from: string, to: string): JsonObject {
  const out: Record<string, unknown> = { ...body };
  for (const key of patientElementsOf(body)) {
    const value = body[key];
    if (value === undefined) continue;
    const swap = (ref: unknown): unknown => {
      const r = asString(field(ref, 'reference'));
      return r !== undefined && normalizeReference(r) === `Patient/${from}`
        ? { ...(ref as object), reference: `Patient/${to}` }
        : ref;
    };
    out[key] = Array.isArray(value) ? value.map(swap) : swap(value);
  }
  return out;
}

/**
 * Follows `replaced-by` links from `patientId` to the Patient that survives, memoising in
 * `cache` (one per bundle). Returns `patientId` itself when it was never merged.
 */
export async function resolveSurvivor(
  tx: Queryable,
  patientId: string,
  cache: Map<string, string | null>,
): Promise<string> {
  let current = patientId;
  const seen = new Set<string>([current]);
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    let next = cache.get(current);
    if (next === undefined) {
      const [row] = await tx.query<{ resource: JsonObject }>(
        `SELECT resource FROM fhir_resources WHERE resource_type = 'Patient' AND id = $1 AND NOT deleted`,
        [current],
      );
      next = row === undefined ? null : (survivorOf(row.resource) ?? null);
      cache.set(current, next);
    }
    if (next === null || seen.has(next)) return current;
    seen.add(next);
    current = next;
  }
  return current;
}

/**
 * A later message naming a merged Patient (an A08 under the old MRN, sending `active: true`)
 * updates its details, not its merge: it stays inactive and replaced-by its survivor, so what
 * the message carries is redirected and identity keeps the record in the survivor's person.
 */
async function keepMerged(tx: Queryable, body: JsonObject): Promise<JsonObject> {
  const id = asString(body['id']);
  if (id === undefined || survivorOf(body) !== undefined) return body;
  const [row] = await tx.query<{ resource: JsonObject }>(
    `SELECT resource FROM fhir_resources WHERE resource_type = 'Patient' AND id = $1 AND NOT deleted`,
    [id],
  );
  const stored = row?.resource;
  if (stored === undefined || survivorOf(stored) === undefined) return body;
  return { ...body, active: false, link: stored['link'] };
}

/**
 * `body` with each merged Patient it names as its patient (`subject`/`patient`, or its type's
 * own elements) replaced by its survivor; a merged Patient itself stays merged.
 */
export async function redirectToSurvivors(
  tx: Queryable,
  body: JsonObject,
  cache: Map<string, string | null>,
): Promise<JsonObject> {
  if (body['resourceType'] === 'Patient') return keepMerged(tx, body);
  let out = body;
  for (const key of patientElementsOf(body)) {
    for (const ref of asList(body[key])) {
      const r = asString(field(ref, 'reference'));
      const normalized = r === undefined ? undefined : normalizeReference(r);
      if (normalized?.startsWith('Patient/') !== true) continue;
      const from = normalized.slice('Patient/'.length);
      const to = await resolveSurvivor(tx, from, cache);
      if (to !== from) out = repointBody(out, from, to);
    }
  }
  return out;
}

/**
 * Gives every stored resource that names `Patient/merged` as its patient a new version naming
 * `Patient/survivor`. The event time is kept: the re-point is not newer clinical data, so a late
 * update of the same resource still applies (and is redirected on its way in). The index is read
 * by parameter name alone: a row of another type under one of those names (none today) costs a
 * lock and is skipped unchanged, as repointBody touches only the type's own elements.
 */
export async function repointMergedPatient(
  tx: Queryable,
  merged: string,
  survivor: string,
  source: { readonly messageId: string; readonly lastUpdated: string },
): Promise<ResourceChange[]> {
  const refs = await tx.query<{ resource_type: string; id: string }>(
    `SELECT DISTINCT resource_type, id FROM fhir_search_index WHERE reference = $1 AND param = ANY($2::text[])
     ORDER BY resource_type, id`,
    [`Patient/${merged}`, PATIENT_LINK_PARAMS],
  );
  const out: ResourceChange[] = [];
  for (const { resource_type: type, id } of refs) {
    const current = await lockCurrent(tx, type, id);
    if (current === undefined || current.deleted) continue;
    const body = repointBody(current.resource, merged, survivor);
    if (hashBody(body, false) === current.contentHash) continue;
    const versionId = await writeVersion(
      tx,
      { type, id, body, deleted: false, eventTime: new Date(current.eventMs).toISOString(), ...source },
      current,
    );
    if (versionId === undefined) continue;
    out.push({
      type,
      id,
      outcome: 'updated',
      cause: `merge:Patient/${merged}`,
      previous: { versionId: String(current.versionId), resource: current.resource, deleted: false },
      current: { versionId: String(versionId), resource: body, deleted: false },
    });
  }
  return out;
}

/**
 * A merge that arrives after newer demographics for the merged patient: the merge is a fact about
 * identity and must hold, so the stored record is kept and only marked inactive and replaced-by
 * (keeping the stored, later event time). Anything else that is late stays skipped.
 */
function lateMerge(current: CurrentVersion, received: JsonObject): JsonObject | undefined {
  if (current.deleted || survivorOf(received) === undefined) return undefined;
  if (survivorOf(current.resource) === survivorOf(received)) return undefined;
  return { ...current.resource, active: false, link: received['link'] };
}

/**
 * The merge rules as store hooks, for one bundle (the survivor cache lives as long as it):
 * references to a merged Patient are redirected on the way in, a Patient stored as merged moves
 * its records to the survivor, and a late merge still holds.
 */
export function patientMergeHooks(): BundleHooks {
  const survivors = new Map<string, string | null>();
  return {
    prepare: (tx, body) => redirectToSurvivors(tx, body, survivors),
    lateWrite: lateMerge,
    afterEntry: async (tx, change, received, source) => {
      if (change.type !== 'Patient' || received === undefined) return [];
      if (change.outcome === 'out-of-order' || change.outcome === 'not-found') return [];
      // What was stored decides: a merged Patient kept merged (keepMerged) still redirects.
      const survivor = survivorOf(change.current?.resource ?? received);
      survivors.set(change.id, survivor ?? null);
      if (survivor === undefined || survivor === change.id) return [];
      return repointMergedPatient(tx, change.id, survivor, source);
    },
  };
}
