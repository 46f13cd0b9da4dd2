/**
 * The one place a resource version is written: current row, history row and search index
 * change together, inside the caller's transaction, so readers never see them disagree.
 */
import type { Queryable } from './db';
import { asObject, contentHash, type JsonObject } from './fhir-json';
import { extractIndexRows, type IndexRow } from './fhir-search-index';

/** The current version of a resource, locked for update by `lockCurrent`. */
export interface CurrentVersion {
  readonly versionId: number;
  /** Epoch milliseconds of the event that produced the stored content. */
  readonly eventMs: number;
  readonly deleted: boolean;
  readonly contentHash: string;
  readonly resource: JsonObject;
}

/** What a new version says and where it came from. */
export interface NewVersion {
  readonly type: string;
  readonly id: string;
  /** The body as received; `id` and the store's `meta` fields are set here. */
  readonly body: JsonObject;
  readonly deleted: boolean;
  /** ISO instant of the event behind this version. */
  readonly eventTime: string;
  /** The history row's `message_id`: an archived message id, or `api:<requestId>` for the API. */
  readonly messageId: string;
  /** ISO instant written to `meta.lastUpdated`. */
  readonly lastUpdated: string;
  /**
   * `meta.source` of the version, for writes that came from no message (`urn:care:api:<client>`).
   * @defaultValue `messageSource(messageId)`
   */
  readonly source?: string;
}

interface CurrentRow {
  version_id: number;
  event_time: Date | string;
  deleted: boolean;
  content_hash: string;
  resource: JsonObject;
}

function toMs(value: Date | string): number {
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

/** `urn:care:message:<id>`: `meta.source` naming the archived message behind a version. */
export function messageSource(messageId: string): string {
  return `urn:care:message:${messageId}`;
}

/** Reads and row-locks the current version, so concurrent writers of one resource serialize. */
export async function lockCurrent(
  tx: Queryable,
  type: string,
  id: string,
): Promise<CurrentVersion | undefined> {
  const [row] = await tx.query<CurrentRow>(
    `SELECT version_id, event_time, deleted, content_hash, resource FROM fhir_resources
     WHERE resource_type = $1 AND id = $2 FOR UPDATE`,
    [type, id],
    { prepared: true },
  );
  return row === undefined ? undefined : toCurrent(row);
}

function toCurrent(row: CurrentRow): CurrentVersion {
  return {
    versionId: row.version_id,
    eventMs: toMs(row.event_time),
    deleted: row.deleted,
    contentHash: row.content_hash,
    resource: row.resource,
  };
}

function currentMap(
  rows: readonly (CurrentRow & { resource_type: string; id: string })[],
): Map<string, CurrentVersion> {
  return new Map(rows.map((row) => [`${row.resource_type}/${row.id}`, toCurrent(row)]));
}

/**
 * The current versions of many resources as last committed, in one round trip and without locks:
 * what lets a writer see that a shared resource (a ward's Location) needs no write at all, so it
 * never queues behind the other writers of that row. Missing resources are absent.
 */
export async function readCurrentMany(
  tx: Queryable,
  keys: readonly { readonly type: string; readonly id: string }[],
): Promise<Map<string, CurrentVersion>> {
  if (keys.length === 0) return new Map();
  const rows = await tx.query<CurrentRow & { resource_type: string; id: string }>(
    `SELECT resource_type, id, version_id, event_time, deleted, content_hash, resource FROM fhir_resources
      WHERE (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [keys.map((k) => k.type), keys.map((k) => k.id)],
    { prepared: true },
  );
  return currentMap(rows);
}

/**
 * Reads and row-locks the current versions of many resources in one round trip, in key order so
 * two transactions locking overlapping sets cannot deadlock. Missing resources are absent.
 */
export async function lockCurrentMany(
  tx: Queryable,
  keys: readonly { readonly type: string; readonly id: string }[],
): Promise<Map<string, CurrentVersion>> {
  if (keys.length === 0) return new Map();
  const rows = await tx.query<CurrentRow & { resource_type: string; id: string }>(
    `SELECT resource_type, id, version_id, event_time, deleted, content_hash, resource FROM fhir_resources
      WHERE (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      ORDER BY resource_type, id FOR UPDATE`,
    [keys.map((k) => k.type), keys.map((k) => k.id)],
    { prepared: true },
  );
  return currentMap(rows);
}

/** The hash `writeVersion` stores for `body`, to compare with `CurrentVersion.contentHash`. */
export function hashBody(body: JsonObject, deleted: boolean): string {
  return deleted ? `deleted:${contentHash(body)}` : contentHash(body);
}

function withMeta(v: NewVersion, versionId: number): JsonObject {
  const meta = {
    ...asObject(v.body['meta']),
    versionId: String(versionId),
    lastUpdated: v.lastUpdated,
    source: v.source ?? messageSource(v.messageId),
  };
  return { ...v.body, id: v.id, meta };
}

/** A version ready to write: numbered, `meta` set, hashed and its index rows extracted. */
export interface VersionRow {
  readonly v: NewVersion;
  readonly versionId: number;
  /** No version before it: inserted, or nothing when a concurrent writer created the row first. */
  readonly first: boolean;
  readonly hash: string;
  readonly json: string;
  readonly index: string;
}

/**
 * Everything of a write but the round trip. Throws before anything is written when the version
 * cannot be stored (a malformed indexed date).
 */
export function versionRow(v: NewVersion, previous: CurrentVersion | undefined): VersionRow {
  const versionId = (previous?.versionId ?? 0) + 1;
  const resource = withMeta(v, versionId);
  const rows = v.deleted ? [] : extractIndexRows(v.type, resource);
  return {
    v,
    versionId,
    first: previous === undefined,
    hash: hashBody(v.body, v.deleted),
    json: JSON.stringify(resource),
    index: indexJson(rows),
  };
}

/**
 * Writes `v` as the version after `previous` (the first version when undefined) and returns
 * its number, or undefined when `previous` is undefined and a concurrent writer created the
 * resource first; the caller then locks that row and decides again.
 *
 * Current row, history row and search index are written by one statement (data-modifying CTEs),
 * one round trip per version: the store's cost is mostly round trips.
 */
export async function writeVersion(
  tx: Queryable,
  v: NewVersion,
  previous: CurrentVersion | undefined,
): Promise<number | undefined> {
  const row = versionRow(v, previous);
  return (await writeRow(tx, row)) ? row.versionId : undefined;
}

async function writeRow(tx: Queryable, row: VersionRow): Promise<boolean> {
  const { v } = row;
  const current = row.first
    ? `INSERT INTO fhir_resources (resource_type, id, version_id, last_updated, event_time, deleted, content_hash, resource)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) ON CONFLICT (resource_type, id) DO NOTHING RETURNING version_id`
    : `UPDATE fhir_resources SET version_id = $3, last_updated = $4, event_time = $5, deleted = $6,
         content_hash = $7, resource = $8::jsonb
       WHERE resource_type = $1 AND id = $2 RETURNING version_id`;
  const written = await tx.query<{ version_id: number }>(
    `WITH cur AS (${current}),
     hist AS (
       INSERT INTO fhir_resource_history (resource_type, id, version_id, last_updated, event_time, deleted, message_id, resource)
       SELECT $1, $2, $3, $4, $5, $6, $9, $8::jsonb FROM cur),
     old_index AS (
       DELETE FROM fhir_search_index WHERE resource_type = $1 AND id = $2 AND EXISTS (SELECT 1 FROM cur)),
     new_index AS (
       INSERT INTO fhir_search_index (resource_type, id, param, system, value, date_start, date_end, reference)
       SELECT $1, $2, r.param, r.system, r.value, r.date_start, r.date_end, r.reference
         FROM jsonb_to_recordset($10::jsonb) AS r(param text, system text, value text,
              date_start timestamptz, date_end timestamptz, reference text)
        WHERE EXISTS (SELECT 1 FROM cur))
     SELECT version_id FROM cur`,
    [
      v.type,
      v.id,
      row.versionId,
      v.lastUpdated,
      v.eventTime,
      v.deleted,
      row.hash,
      row.json,
      v.messageId,
      row.index,
    ],
    { prepared: true },
  );
  return written.length > 0;
}

/**
 * Writes many versions of distinct resources in one statement, as `writeVersion` writes one;
 * returns the `Type/id` of those written (a first version a concurrent writer created first is not).
 */
export async function writeVersionRows(tx: Queryable, rows: readonly VersionRow[]): Promise<Set<string>> {
  const [only] = rows;
  if (rows.length === 1 && only !== undefined) {
    return new Set((await writeRow(tx, only)) ? [`${only.v.type}/${only.v.id}`] : []);
  }
  if (rows.length === 0) return new Set();
  const param = `[${rows
    .map(
      (r) =>
        `{"t":${JSON.stringify(r.v.type)},"i":${JSON.stringify(r.v.id)},"n":${r.versionId},` +
        `"f":${r.first},"u":${JSON.stringify(r.v.lastUpdated)},"e":${JSON.stringify(r.v.eventTime)},` +
        `"d":${r.v.deleted},"h":${JSON.stringify(r.hash)},"m":${JSON.stringify(r.v.messageId)},` +
        `"r":${r.json},"x":${r.index}}`,
    )
    .join(',')}]`;
  // CTEs share one snapshot: the index DELETE sees only the rows from before this statement.
  const written = await tx.query<{ resource_type: string; id: string }>(
    `WITH v AS MATERIALIZED (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(t text, i text, n integer, f boolean, u timestamptz,
              e timestamptz, d boolean, h text, m text, r jsonb, x jsonb)),
     ins AS (
       INSERT INTO fhir_resources (resource_type, id, version_id, last_updated, event_time, deleted, content_hash, resource)
       SELECT t, i, n, u, e, d, h, r FROM v WHERE f
       ON CONFLICT (resource_type, id) DO NOTHING RETURNING resource_type, id),
     upd AS (
       UPDATE fhir_resources c SET version_id = v.n, last_updated = v.u, event_time = v.e, deleted = v.d,
              content_hash = v.h, resource = v.r
         FROM v WHERE NOT v.f AND c.resource_type = v.t AND c.id = v.i RETURNING c.resource_type, c.id),
     cur AS (SELECT * FROM ins UNION ALL SELECT * FROM upd),
     w AS MATERIALIZED (SELECT v.* FROM v JOIN cur ON cur.resource_type = v.t AND cur.id = v.i),
     hist AS (
       INSERT INTO fhir_resource_history (resource_type, id, version_id, last_updated, event_time, deleted, message_id, resource)
       SELECT t, i, n, u, e, d, m, r FROM w),
     old_index AS (
       DELETE FROM fhir_search_index s USING w WHERE s.resource_type = w.t AND s.id = w.i),
     new_index AS (
       INSERT INTO fhir_search_index (resource_type, id, param, system, value, date_start, date_end, reference)
       SELECT w.t, w.i, x.param, x.system, x.value, x.date_start, x.date_end, x.reference
         FROM w CROSS JOIN LATERAL jsonb_to_recordset(w.x) AS x(param text, system text, value text,
              date_start timestamptz, date_end timestamptz, reference text))
     SELECT resource_type, id FROM cur`,
    [param],
    { prepared: true },
  );
  return new Set(written.map((r) => `${r.resource_type}/${r.id}`));
}

function indexJson(rows: readonly IndexRow[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      param: r.param,
      system: r.system,
      value: r.value,
      date_start: r.dateStart,
      date_end: r.dateEnd,
      reference: r.reference,
    })),
  );
}

/** Moves the stored event time forward without a new version (a replay seen later). */
export async function advanceEventTime(
  tx: Queryable,
  type: string,
  id: string,
  eventTime: string,
): Promise<void> {
  await tx.query(
    'UPDATE fhir_resources SET event_time = $3 WHERE resource_type = $1 AND id = $2 AND event_time < $3',
    [type, id, eventTime],
    { prepared: true },
  );
}
