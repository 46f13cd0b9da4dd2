/**
 * Stores the transaction Bundle the mapper made from one message. Identity is the bundle's
 * deterministic `Type/id`, so a replay or a later update versions the same resource instead of
 * creating a twin, and event time, not arrival order, decides which content wins.
 */
import {
  CLEAR_EXTENSION,
  KEEP_STORED_EXTENSION,
  readDirective,
  readExpectations,
  readUpdateMode,
  type StoredExpectation,
} from '../fhir/store-directives';
import { readMerges, type ElementMerge } from '../fhir/merge-directive';
import type { Queryable } from './db';
import { parseFhirDate } from './fhir-date';
import { asObject, mapReferences, type JsonObject } from './fhir-json';
import { checkExpectations } from './check-expectations';
import { lockKeys } from './advisory-locks';
import type { BundleHooks, ResourceChange, StoredVersion } from './bundle-hooks';
import { FhirStoreError, FhirStoreErrorCode } from './fhir-store-error';
import type { TransactionBundle } from './fhir-types';
import { createWriteQueue, type WriteQueue } from './fhir-write-queue';
import { lateBody, withUpdateMode, type EntryDirectives } from './entry-body';
import {
  advanceEventTime,
  hashBody,
  lockCurrent,
  lockCurrentMany,
  readCurrentMany,
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
  /** Rules of other modules (patient merges) applied as entries are written. */
  readonly hooks?: BundleHooks;
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
  /** Versions a hook wrote (a merged Patient's resources moved to its survivor). */
  readonly repointed: WrittenResource[];
  /**
   * Every change with the version before and after, for what runs next in the same transaction
   * (events are derived from these). Not kept on the archive row: the versions are in history.
   */
  readonly changes: ResourceChange[];
}

interface PlannedEntry extends EntryDirectives {
  readonly type: string;
  readonly id: string;
  readonly method: 'PUT' | 'DELETE';
  readonly body: JsonObject | undefined;
  /** What a stored version must already hold for the entry to be written over it. */
  readonly expect: readonly StoredExpectation[];
}

interface WriteContext {
  /** The caller's transaction through `writes`: queued versions go out before each statement. */
  readonly tx: Queryable;
  readonly writes: WriteQueue;
  readonly eventTime: string;
  readonly eventMs: number;
  readonly messageId: string;
  readonly lastUpdated: string;
  readonly hooks: BundleHooks;
  /** `Type/id` to its current version (undefined: not stored), locked in one query per bundle. */
  readonly prefetched: Map<string, CurrentVersion | undefined>;
  /**
   * `Type/id` to its last committed version, read without a lock, for entries that looked like
   * no write at all: they take no lock unless their prepared body says otherwise.
   */
  readonly unlocked: Map<string, { readonly current: CurrentVersion; readonly change: ResourceChange }>;
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
      return {
        type,
        id,
        method,
        body: undefined,
        update: 'replace',
        keepStored: [],
        clear: [],
        merges: [],
        expect: [],
      };
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
    const merges = readMerges(entry.request);
    if (merges.includes(undefined)) {
      throw invalid('a merge extension names no element', `${at}.request.extension`);
    }
    return {
      type,
      id,
      method,
      body: { ...resource, id },
      update,
      keepStored: readDirective(entry.request, KEEP_STORED_EXTENSION),
      clear: readDirective(entry.request, CLEAR_EXTENSION),
      merges: merges.filter((m): m is ElementMerge => m !== undefined),
      expect: expectationsOf(entry.request, at),
    };
  });
  // References to an entry's fullUrl (`urn:uuid:...`) name the resource by its Type/id.
  return planned.map((p) =>
    p.body === undefined
      ? p
      : { ...p, body: mapReferences(p.body, (ref) => fullUrls.get(ref) ?? ref) as JsonObject },
  );
}

function expectationsOf(
  request: { readonly extension?: unknown } | undefined,
  at: string,
): StoredExpectation[] {
  try {
    return readExpectations(request);
  } catch {
    // A precondition that cannot be read must not be dropped: the entry is refused.
    throw invalid('an expect-stored extension does not hold JSON', `${at}.request.extension`);
  }
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
  // Under the key lock every creator takes, nobody else can create it before the write.
  return { created: await ctx.writes.queue(versionOf(ctx, entry, body, false), undefined) };
}

function stored(v: CurrentVersion): StoredVersion {
  return { versionId: String(v.versionId), resource: v.resource, deleted: v.deleted };
}

function written(versionId: number, body: JsonObject, deleted: boolean): StoredVersion {
  // The body as stored differs only in `meta`, which the store sets; readers take it from history.
  return { versionId: String(versionId), resource: body, deleted };
}

/**
 * The change when `received` needs no write over `current` (a later stored version it may not
 * roll back, or the same content from an event no later than the stored one), else undefined.
 * Such an entry writes nothing whatever happens to the row meanwhile: a concurrent writer only
 * ever moves a resource to a later event, so the decision holds as if this bundle had gone first.
 */
function noWriteChange(
  ctx: WriteContext,
  entry: PlannedEntry,
  current: CurrentVersion | undefined,
  received: JsonObject | undefined,
): ResourceChange | undefined {
  if (current === undefined) return undefined;
  const { type, id } = entry;
  const previous = stored(current);
  if (current.eventMs > ctx.eventMs) {
    const late = received === undefined ? undefined : lateBody(entry, current, received, ctx.hooks.lateWrite);
    if (late !== undefined) return undefined;
    return { type, id, outcome: SkipReason.OutOfOrder, previous, current: previous };
  }
  // A later event over the same content moves the stored event time: a write, under the lock.
  if (ctx.eventMs > current.eventMs) return undefined;
  const deleted = received === undefined;
  const body = received === undefined ? current.resource : withUpdateMode(entry, current, received);
  if (hashBody(body, deleted) !== current.contentHash) return undefined;
  return { type, id, outcome: SkipReason.Unchanged, previous, current: previous };
}

async function applyEntry(ctx: WriteContext, entry: PlannedEntry): Promise<ResourceChange> {
  const { type, id } = entry;
  const prepare = ctx.hooks.prepare;
  const received =
    entry.body === undefined || prepare === undefined ? entry.body : await prepare(ctx.tx, entry.body);
  const key = `${type}/${id}`;
  const unlocked = ctx.unlocked.get(key);
  if (unlocked !== undefined) {
    ctx.unlocked.delete(key);
    // Decided on the body before `prepare`: the same object needs no second look.
    const change =
      received === entry.body ? unlocked.change : noWriteChange(ctx, entry, unlocked.current, received);
    if (change !== undefined) return change;
    // `prepare` made it a write after all: lock it now, as the bundle's other writes are.
    await lockKeys(ctx.tx, [`fhir:${key}`]);
  }
  const locked = await lockOrCreate(ctx, entry, received ?? {});
  if ('created' in locked) {
    return { type, id, outcome: 'created', current: written(locked.created, received ?? {}, false) };
  }
  const current = locked.current;
  if (current === undefined) return { type, id, outcome: SkipReason.NotFound };
  const previous = stored(current);
  if (current.eventMs > ctx.eventMs) {
    const late = received === undefined ? undefined : lateBody(entry, current, received, ctx.hooks.lateWrite);
    if (late === undefined) return { type, id, outcome: SkipReason.OutOfOrder, previous, current: previous };
    const versionId = await ctx.writes.queue(
      { ...versionOf(ctx, entry, late, false), eventTime: new Date(current.eventMs).toISOString() },
      current,
    );
    return { type, id, outcome: 'updated', previous, current: written(versionId, late, false) };
  }
  const deleted = received === undefined;
  const body = received === undefined ? current.resource : withUpdateMode(entry, current, received);
  if (hashBody(body, deleted) === current.contentHash) {
    if (ctx.eventMs > current.eventMs) await advanceEventTime(ctx.tx, type, id, ctx.eventTime);
    return { type, id, outcome: SkipReason.Unchanged, previous, current: previous };
  }
  // Only a write is held to the expectation: a replay of a move that already happened is unchanged.
  if (entry.expect.length > 0) {
    await checkExpectations(ctx.tx, ctx.hooks, { type, id, expect: entry.expect }, current);
  }
  const versionId = await ctx.writes.queue(versionOf(ctx, entry, body, deleted), current);
  const outcome = deleted ? 'deleted' : 'updated';
  return { type, id, outcome, previous, current: written(versionId, body, deleted) };
}

/**
 * Writes every entry of a transaction Bundle inside `tx` (the caller's transaction, so the
 * message status and the resources commit together). PUT creates or versions `Type/id`, only
 * when the content changed and the stored version is not from a later event; DELETE marks it
 * deleted. `options.hooks` let other modules (patient merges) take part without the store
 * knowing their rules.
 * @param tx - an open transaction (`db.transaction`): the row locks that serialise writers of
 *   one resource hold until it commits, so a bare Db is not enough.
 * @param bundle - the mapper's transaction Bundle; entries `{fullUrl, resource, request}`.
 * @param options - the message's event time and archive id.
 * @returns what was written, skipped (with the reason) and re-pointed, and every change with
 *   its previous and new version.
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
  const writes = createWriteQueue(tx);
  const ctx: WriteContext = {
    tx: writes.tx,
    writes,
    eventTime: event.start,
    eventMs: Date.parse(event.start),
    messageId: options.messageId,
    lastUpdated: (options.now ?? new Date()).toISOString(),
    hooks: options.hooks ?? {},
    prefetched: new Map(),
    unlocked: new Map(),
  };
  const planned = planEntries(bundle);
  await lockWrites(ctx, planned);
  const result: ApplyBundleResult = { written: [], skipped: [], repointed: [], changes: [] };
  for (const entry of planned) {
    const change = await applyEntry(ctx, entry);
    result.changes.push(change);
    if (change.current !== undefined && change.previous?.versionId !== change.current.versionId) {
      result.written.push({ type: change.type, id: change.id, versionId: change.current.versionId });
    } else {
      result.skipped.push({ type: change.type, id: change.id, reason: skipReasonOf(change) });
    }
    const after = ctx.hooks.afterEntry;
    if (after === undefined) continue;
    const further = await after(ctx.tx, change, entry.body, {
      messageId: ctx.messageId,
      lastUpdated: ctx.lastUpdated,
    });
    for (const f of further) {
      // Versions a hook wrote are newer than what was read up front.
      ctx.prefetched.delete(`${f.type}/${f.id}`);
      ctx.unlocked.delete(`${f.type}/${f.id}`);
      result.changes.push(f);
      if (f.current !== undefined) {
        result.repointed.push({ type: f.type, id: f.id, versionId: f.current.versionId });
      }
    }
  }
  await writes.flush();
  return result;
}

/**
 * Locks what the bundle will write, after one unlocked read of everything it names. Most of a
 * message's resources are shared by patients (a ward's Locations, the facility's Organization,
 * its doctors) and come again unchanged: locking those would queue every worker behind the
 * others' commits. The rest are locked, their advisory keys first (in one order, so creating a row
 * another transaction is also creating queues rather than deadlocks), then their rows, read again
 * in that second statement's fresher snapshot. A resource named twice is locked, so its second
 * entry sees the first.
 */
async function lockWrites(ctx: WriteContext, planned: readonly PlannedEntry[]): Promise<void> {
  const committed = await readCurrentMany(ctx.tx, planned);
  const seen = new Map<string, number>();
  for (const e of planned) seen.set(`${e.type}/${e.id}`, (seen.get(`${e.type}/${e.id}`) ?? 0) + 1);
  const writes: PlannedEntry[] = [];
  for (const e of planned) {
    const key = `${e.type}/${e.id}`;
    const current = committed.get(key);
    const change = seen.get(key) === 1 ? noWriteChange(ctx, e, current, e.body) : undefined;
    if (change !== undefined && current !== undefined) ctx.unlocked.set(key, { current, change });
    else writes.push(e);
  }
  if (writes.length === 0) return;
  const keys = writes.map((e) => `${e.type}/${e.id}`);
  await lockKeys(
    ctx.tx,
    keys.map((k) => `fhir:${k}`),
  );
  const locked = await lockCurrentMany(ctx.tx, writes);
  for (const key of keys) ctx.prefetched.set(key, locked.get(key));
}

function skipReasonOf(change: ResourceChange): SkipReason {
  switch (change.outcome) {
    case 'out-of-order':
      return SkipReason.OutOfOrder;
    case 'not-found':
      return SkipReason.NotFound;
    case 'unchanged':
    case 'created':
    case 'updated':
    case 'deleted':
      return SkipReason.Unchanged;
  }
}
