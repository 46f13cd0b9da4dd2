/**
 * Stores the transaction Bundle the mapper made from one message. Identity is the bundle's
 * deterministic `Type/id`, so a replay or a later update versions the same resource instead of
 * creating a twin, and event time, not arrival order, decides which content wins.
 */
import {
  CLEAR_EXTENSION,
  KEEP_STORED_EXTENSION,
  readDirective,
  readUpdateMode,
  type UpdateMode,
} from '../mapping/update-mode';
import type { Queryable } from './db';
import { parseFhirDate } from './fhir-date';
import { asObject, mapReferences, type JsonObject } from './fhir-json';
import {
  redirectToSurvivors,
  repointMergedPatient,
  survivorOf,
  type RepointedResource,
} from './fhir-patient-merge';
import { FhirStoreError, FhirStoreErrorCode } from './fhir-store-error';
import type { TransactionBundle } from './fhir-types';
import {
  advanceEventTime,
  hashBody,
  lockCurrent,
  lockCurrentMany,
  writeVersion,
  type CurrentVersion,
  type NewVersion,
} from './fhir-version-writer';

/** Where a bundle came from. */
export interface ApplyBundleOptions {
  /** FHIR dateTime of the message's event (EVN-2/MSH-7); orders late arrivals. */
  readonly eventTime: string;
  /** Archived message id; versions get `meta.source` = `urn:care:message:<messageId>`. */
  readonly messageId: string;
  /**
   * Clock for `meta.lastUpdated`.
   * @defaultValue the current time
   */
  readonly now?: Date;
}

/** A resource version the bundle created. */
export interface WrittenResource {
  readonly type: string;
  readonly id: string;
  readonly versionId: string;
}

/** Why an entry made no new version. */
export const SkipReason = {
  /** Same content as stored (a replay, or an update that changed nothing). */
  Unchanged: 'unchanged',
  /** The stored version comes from a later event; an older message does not roll it back. */
  OutOfOrder: 'out-of-order',
  /** DELETE of a resource that does not exist. */
  NotFound: 'not-found',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

/** An entry that made no new version, and why. */
export interface SkippedResource {
  readonly type: string;
  readonly id: string;
  readonly reason: SkipReason;
}

/** What `applyBundle` did, entry by entry. */
export interface ApplyBundleResult {
  readonly written: WrittenResource[];
  readonly skipped: SkippedResource[];
  /** Versions written because a merged Patient's resources moved to its survivor. */
  readonly repointed: RepointedResource[];
}

interface PlannedEntry {
  readonly type: string;
  readonly id: string;
  readonly method: 'PUT' | 'DELETE';
  readonly body: JsonObject | undefined;
  /** `merge`: stored top-level elements the entry does not carry are kept. */
  readonly update: UpdateMode;
  /** Top-level elements whose stored value wins over the entry's (filled by a fallback). */
  readonly keepStored: readonly string[];
  /** Top-level elements the sender deleted (HL7 `""`): not kept from the stored version. */
  readonly clear: readonly string[];
}

interface WriteContext {
  readonly tx: Queryable;
  readonly eventTime: string;
  readonly eventMs: number;
  readonly messageId: string;
  readonly lastUpdated: string;
  readonly survivors: Map<string, string | null>;
  /** `Type/id` to its current version (undefined: not stored), locked in one query per bundle. */
  readonly prefetched: Map<string, CurrentVersion | undefined>;
}

const URL_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

function invalid(message: string, expression: string): FhirStoreError {
  return new FhirStoreError(FhirStoreErrorCode.Invalid, message, expression);
}

function planEntries(bundle: TransactionBundle): PlannedEntry[] {
  if (asObject(bundle)?.['resourceType'] !== 'Bundle' || bundle.type !== 'transaction') {
    throw invalid('expected a transaction Bundle', 'Bundle.type');
  }
  const entries = bundle.entry ?? [];
  const fullUrls = new Map<string, string>();
  const planned = entries.map((entry, i): PlannedEntry => {
    const at = `Bundle.entry[${i}]`;
    const method = entry.request?.method;
    if (method !== 'PUT' && method !== 'DELETE') {
      throw new FhirStoreError(
        FhirStoreErrorCode.NotSupported,
        `request.method ${String(method)} is not supported`,
        `${at}.request.method`,
      );
    }
    const m = URL_RE.exec(entry.request?.url ?? '');
    const [, type = '', id = ''] = m ?? [];
    if (!m) {
      throw invalid(`request.url must be Type/id, got ${String(entry.request?.url)}`, `${at}.request.url`);
    }
    if (entry.fullUrl !== undefined) fullUrls.set(entry.fullUrl, `${type}/${id}`);
    if (method === 'DELETE') {
      return { type, id, method, body: undefined, update: 'replace', keepStored: [], clear: [] };
    }
    const resource = asObject(entry.resource);
    if (resource?.['resourceType'] !== type) {
      throw invalid(`resource must be a ${type}`, `${at}.resource.resourceType`);
    }
    if (resource['id'] !== undefined && resource['id'] !== id) {
      throw invalid(
        `resource.id ${JSON.stringify(resource['id'])} differs from request.url ${type}/${id}`,
        `${at}.resource.id`,
      );
    }
    const update = readUpdateMode(entry.request);
    return {
      type,
      id,
      method,
      body: { ...resource, id },
      update,
      keepStored: readDirective(entry.request, KEEP_STORED_EXTENSION),
      clear: readDirective(entry.request, CLEAR_EXTENSION),
    };
  });
  // References to an entry's fullUrl (`urn:uuid:...`) name the resource by its Type/id.
  return planned.map((p) =>
    p.body === undefined
      ? p
      : { ...p, body: mapReferences(p.body, (ref) => fullUrls.get(ref) ?? ref) as JsonObject },
  );
}

function versionOf(ctx: WriteContext, entry: PlannedEntry, body: JsonObject, deleted: boolean): NewVersion {
  const { eventTime, messageId, lastUpdated } = ctx;
  return { type: entry.type, id: entry.id, body, deleted, eventTime, messageId, lastUpdated };
}

async function lockOrCreate(
  ctx: WriteContext,
  entry: PlannedEntry,
  body: JsonObject,
): Promise<{ created: number } | { current: CurrentVersion | undefined }> {
  const key = `${entry.type}/${entry.id}`;
  // Locked up front for the whole bundle; a later entry for the same key reads it again.
  const current = ctx.prefetched.has(key)
    ? ctx.prefetched.get(key)
    : await lockCurrent(ctx.tx, entry.type, entry.id);
  ctx.prefetched.delete(key);
  if (current !== undefined || entry.method === 'DELETE') return { current };
  const created = await writeVersion(ctx.tx, versionOf(ctx, entry, body, false), undefined);
  // undefined: another transaction created it between our SELECT and INSERT; decide on its row.
  return created !== undefined ? { created } : { current: await lockCurrent(ctx.tx, entry.type, entry.id) };
}

async function applyEntry(
  ctx: WriteContext,
  entry: PlannedEntry,
): Promise<WrittenResource | SkippedResource> {
  const { type, id } = entry;
  const received =
    entry.body === undefined ? undefined : await redirectToSurvivors(ctx.tx, entry.body, ctx.survivors);
  const locked = await lockOrCreate(ctx, entry, received ?? {});
  if ('created' in locked) return { type, id, versionId: String(locked.created) };
  const current = locked.current;
  if (current === undefined) return { type, id, reason: SkipReason.NotFound };
  if (current.eventMs > ctx.eventMs) {
    const late = received === undefined ? undefined : lateMerge(current, received);
    if (late === undefined) return { type, id, reason: SkipReason.OutOfOrder };
    const versionId = await writeVersion(
      ctx.tx,
      { ...versionOf(ctx, entry, late, false), eventTime: new Date(current.eventMs).toISOString() },
      current,
    );
    return { type, id, versionId: String(versionId) };
  }
  const deleted = received === undefined;
  const body = received === undefined ? current.resource : withUpdateMode(entry, current, received);
  if (hashBody(body, deleted) === current.contentHash) {
    if (ctx.eventMs > current.eventMs) await advanceEventTime(ctx.tx, type, id, ctx.eventTime);
    return { type, id, reason: SkipReason.Unchanged };
  }
  const versionId = await writeVersion(ctx.tx, versionOf(ctx, entry, body, deleted), current);
  return { type, id, versionId: String(versionId) };
}

/** The body to store: the message's resource, over the stored one's top-level elements in merge mode. */
function withUpdateMode(entry: PlannedEntry, current: CurrentVersion, received: JsonObject): JsonObject {
  if (current.deleted) return received;
  const { meta: _meta, ...stored } = current.resource;
  const body = entry.update === 'merge' ? { ...stored, ...received } : { ...received };
  for (const element of entry.clear) Reflect.deleteProperty(body, element);
  for (const element of entry.keepStored) {
    if (stored[element] !== undefined) body[element] = stored[element];
  }
  return body;
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
 * Writes every entry of a transaction Bundle inside `tx` (the caller's transaction, so the
 * message status and the resources commit together). PUT creates or versions `Type/id`, only
 * when the content changed and the stored version is not from a later event; DELETE marks it
 * deleted. A Patient that arrives inactive and `replaced-by` another moves everything that
 * names it to the survivor.
 * @param tx - an open transaction (`db.transaction`): the row locks that serialise writers of
 *   one resource hold until it commits, so a bare Db is not enough.
 * @param bundle - the mapper's transaction Bundle; entries `{fullUrl, resource, request}`.
 * @param options - the message's event time and archive id.
 * @returns what was written, skipped (with the reason) and re-pointed.
 * @throws FhirStoreError (`invalid`, `not-supported`) when the bundle is malformed.
 */
export async function applyBundle(
  tx: Queryable,
  bundle: TransactionBundle,
  options: ApplyBundleOptions,
): Promise<ApplyBundleResult> {
  const event = parseFhirDate(options.eventTime);
  if (event === undefined) {
    throw invalid(`eventTime is not a FHIR dateTime: ${options.eventTime}`, 'eventTime');
  }
  if (options.messageId === '') throw invalid('messageId is empty', 'messageId');
  const ctx: WriteContext = {
    tx,
    eventTime: event.start,
    eventMs: Date.parse(event.start),
    messageId: options.messageId,
    lastUpdated: (options.now ?? new Date()).toISOString(),
    survivors: new Map(),
    prefetched: new Map(),
  };
  const planned = planEntries(bundle);
  const locked = await lockCurrentMany(tx, planned);
  for (const e of planned) ctx.prefetched.set(`${e.type}/${e.id}`, locked.get(`${e.type}/${e.id}`));
  const result: ApplyBundleResult = { written: [], skipped: [], repointed: [] };
  for (const entry of planned) {
    const outcome = await applyEntry(ctx, entry);
    if ('reason' in outcome) result.skipped.push(outcome);
    else result.written.push(outcome);
    if (entry.type !== 'Patient' || ('reason' in outcome && outcome.reason !== SkipReason.Unchanged)) {
      continue;
    }
    const survivor = entry.body === undefined ? undefined : survivorOf(entry.body);
    ctx.survivors.set(entry.id, survivor ?? null);
    if (survivor !== undefined && survivor !== entry.id) {
      const moved = await repointMergedPatient(tx, entry.id, survivor, ctx);
      // Versions the merge wrote are newer than what was locked up front.
      for (const m of moved) ctx.prefetched.delete(`${m.type}/${m.id}`);
      result.repointed.push(...moved);
    }
  }
  return result;
}
