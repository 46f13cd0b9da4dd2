/**
 * Create, update and delete of one resource that comes from no message: practices registering
 * their Organizations, Endpoints and rosters over /fhir. Versions go through `writeVersion` like
 * the pipeline's, and name the API client, not a message, as their source.
 */
import { randomUUID } from 'node:crypto';
import { lockKeys } from './advisory-locks';
import type { Queryable } from './db';
import { readResource } from './fhir-read';
import { asString, field, type JsonObject } from './fhir-json';
import type { StoredResource } from './fhir-types';
import {
  hashBody,
  lockCurrent,
  messageSource,
  writeVersion,
  type CurrentVersion,
} from './fhir-version-writer';

/** The types a client may write: what a practice registers. Hospital data arrives over HL7 only. */
export const API_WRITABLE_TYPES: readonly string[] = [
  'Endpoint',
  'Group',
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'Subscription',
];

/** True when clients may create, update and delete `type` through the API. */
export function isApiWritableType(type: string): boolean {
  return API_WRITABLE_TYPES.includes(type);
}

/** `urn:care:api:<clientId>`: `meta.source` of a version a client wrote through the API. */
export function apiSource(clientId: string): string {
  return `urn:care:api:${encodeURIComponent(clientId)}`;
}

/** True when a client wrote the version through the API: a practice's registration, not hospital data. */
export function isFromApi(resource: JsonObject): boolean {
  return asString(field(resource['meta'], 'source'))?.startsWith(apiSource('')) === true;
}

/** True when the version was written from a hospital message: such data is not the API's to change. */
export function isFromMessage(resource: JsonObject): boolean {
  return asString(field(resource['meta'], 'source'))?.startsWith(messageSource('')) === true;
}

/** One write, as the API received it. */
export type DirectWrite =
  | { readonly kind: 'create'; readonly type: string; readonly body: JsonObject }
  | {
      readonly kind: 'update';
      readonly type: string;
      readonly id: string;
      readonly body: JsonObject;
      /** The version the caller last saw (`If-Match`); a different current version refuses. */
      readonly ifMatch?: string;
      /** False: an update of a resource that does not exist is refused instead of creating it. */
      readonly mayCreate: boolean;
    }
  | { readonly kind: 'delete'; readonly type: string; readonly id: string; readonly ifMatch?: string };

/** Who writes: the version's `meta.source` and its history row's `message_id` (`api:<requestId>`). */
export interface DirectWriteSource {
  readonly clientId: string;
  readonly requestId: string;
  /** @defaultValue the current time */
  readonly now?: Date;
}

/** A rule's objection to a write, located by FHIRPath. */
export interface WriteObjection {
  readonly expression: string;
  readonly message: string;
  readonly code?: string;
}

/** What a caller's rule does between the checks and the write: replace the body or object. */
export interface BeforeStoreResult {
  readonly body?: JsonObject;
  readonly objections?: readonly WriteObjection[];
}

/** Runs inside the write's transaction after the resource is locked; `body` is undefined on delete. */
export type BeforeStore = (w: {
  readonly type: string;
  readonly id: string;
  readonly body: JsonObject | undefined;
  /** The current content; undefined when there is none (never stored, or deleted). */
  readonly previous: JsonObject | undefined;
}) => Promise<BeforeStoreResult>;

/** Why a write was refused; nothing was written. */
export const DirectWriteRefusalCode = {
  /** A type clients may not write. */
  NotWritable: 'not-writable',
  /** Body and path disagree (resourceType, id) or the id is not a FHIR id. */
  Invalid: 'invalid',
  /** Delete of a resource that was never stored. */
  NotFound: 'not-found',
  /** Update of a resource that does not exist, by a caller that may not create. */
  CreateNotAllowed: 'create-not-allowed',
  /** `If-Match` names another version than the current one. */
  VersionConflict: 'version-conflict',
  /** The resource came from a hospital message. */
  FromMessage: 'from-message',
  /** The caller's rule objected (`objections`). */
  Objected: 'objected',
} as const;
export type DirectWriteRefusalCode = (typeof DirectWriteRefusalCode)[keyof typeof DirectWriteRefusalCode];

/** What a direct write did. */
export type DirectWriteResult =
  | {
      readonly ok: true;
      /** `unchanged`: same content as stored (or delete of a deleted resource); no new version. */
      readonly outcome: 'created' | 'updated' | 'deleted' | 'unchanged';
      /** The current version after the write, as readers see it (a deletion flagged `deleted`). */
      readonly stored: StoredResource;
    }
  | {
      readonly ok: false;
      readonly code: DirectWriteRefusalCode;
      readonly message: string;
      readonly objections?: readonly WriteObjection[];
    };

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

function refuse(code: DirectWriteRefusalCode, message: string): DirectWriteResult {
  return { ok: false, code, message };
}

function checkRequest(w: DirectWrite, id: string): DirectWriteResult | undefined {
  if (!isApiWritableType(w.type)) {
    return refuse(DirectWriteRefusalCode.NotWritable, `${w.type} is not writable through the API`);
  }
  if (!ID_RE.test(id)) {
    return refuse(DirectWriteRefusalCode.Invalid, `${JSON.stringify(id)} is not a FHIR id`);
  }
  if (w.kind === 'delete') return undefined;
  if (w.body['resourceType'] !== w.type) {
    return refuse(DirectWriteRefusalCode.Invalid, `the body is not a ${w.type}`);
  }
  if (w.kind === 'update' && w.body['id'] !== id) {
    return refuse(DirectWriteRefusalCode.Invalid, `the body's id must be ${id}`);
  }
  return undefined;
}

/** The refusal the stored state gives this write, if any. */
function checkCurrent(
  w: DirectWrite,
  current: CurrentVersion | undefined,
  ref: string,
): DirectWriteResult | undefined {
  if (current !== undefined && isFromMessage(current.resource)) {
    return refuse(
      DirectWriteRefusalCode.FromMessage,
      `${ref} came from a hospital feed and is read-only here; register a resource of your own instead`,
    );
  }
  if (w.kind !== 'create' && w.ifMatch !== undefined && String(current?.versionId) !== w.ifMatch) {
    const now = current === undefined ? 'it does not exist' : `the current version is ${current.versionId}`;
    return refuse(
      DirectWriteRefusalCode.VersionConflict,
      `If-Match names version ${w.ifMatch} of ${ref}, but ${now}`,
    );
  }
  if (w.kind === 'delete' && current === undefined) {
    return refuse(DirectWriteRefusalCode.NotFound, `${ref} not found`);
  }
  if (w.kind === 'update' && !w.mayCreate && (current === undefined || current.deleted)) {
    return refuse(
      DirectWriteRefusalCode.CreateNotAllowed,
      `${ref} does not exist, and creating it is not allowed`,
    );
  }
  return undefined;
}

async function currentOf(tx: Queryable, type: string, id: string): Promise<StoredResource> {
  const stored = await readResource(tx, type, id);
  if (stored === undefined) throw new Error(`${type}/${id} vanished inside its own write`);
  return stored;
}

/**
 * Writes one resource in `tx`, the caller's transaction (so its audit and rules commit with it).
 * Creates get a server-assigned UUID; an update of a resource that does not exist (or was
 * deleted) creates it with the caller's id; a delete writes a deletion version. A resource a
 * hospital message wrote is refused whatever the caller's scopes: its content is the hospital's.
 * @param tx - an open transaction: the resource's lock holds until it ends.
 * @param beforeStore - the caller's rules, after the checks and before the version is written.
 * @returns the version now current, or why nothing was written (values, never thrown).
 */
export async function writeDirect(
  tx: Queryable,
  w: DirectWrite,
  source: DirectWriteSource,
  beforeStore?: BeforeStore,
): Promise<DirectWriteResult> {
  const id = w.kind === 'create' ? randomUUID() : w.id;
  const refused = checkRequest(w, id);
  if (refused !== undefined) return refused;
  const ref = `${w.type}/${id}`;
  // The pipeline takes the same key lock before it creates a row, so the two never race on one.
  await lockKeys(tx, [`fhir:${ref}`]);
  const current = w.kind === 'create' ? undefined : await lockCurrent(tx, w.type, id);
  const stale = checkCurrent(w, current, ref);
  if (stale !== undefined) return stale;
  if (w.kind === 'delete' && current?.deleted === true) {
    return { ok: true, outcome: 'unchanged', stored: await currentOf(tx, w.type, id) };
  }
  const previous = current === undefined || current.deleted ? undefined : current.resource;
  const received = w.kind === 'delete' ? undefined : { ...w.body, id };
  const ruled =
    beforeStore === undefined ? {} : await beforeStore({ type: w.type, id, body: received, previous });
  if (ruled.objections !== undefined && ruled.objections.length > 0) {
    return {
      ok: false,
      code: DirectWriteRefusalCode.Objected,
      message: `${ref} was refused`,
      objections: ruled.objections,
    };
  }
  const deleted = w.kind === 'delete';
  // A rule may rewrite the body but not what it is: type and id stay the request's.
  const body = deleted
    ? (current?.resource ?? {})
    : { ...(ruled.body ?? received), resourceType: w.type, id };
  if (
    current !== undefined &&
    !current.deleted &&
    !deleted &&
    hashBody(body, false) === current.contentHash
  ) {
    return { ok: true, outcome: 'unchanged', stored: await currentOf(tx, w.type, id) };
  }
  const now = (source.now ?? new Date()).getTime();
  // Event time only moves forward, whatever the clocks of the processes that wrote before.
  const eventTime = new Date(Math.max(now, current?.eventMs ?? 0)).toISOString();
  const versionId = await writeVersion(
    tx,
    {
      type: w.type,
      id,
      body,
      deleted,
      eventTime,
      messageId: `api:${source.requestId}`,
      lastUpdated: new Date(now).toISOString(),
      source: apiSource(source.clientId),
    },
    current,
  );
  // Every creator of a row holds its key lock, so a lost insert means one did not: a bug.
  if (versionId === undefined) throw new Error(`${ref} was created concurrently despite its key lock`);
  const outcome = deleted ? 'deleted' : current === undefined || current.deleted ? 'created' : 'updated';
  return { ok: true, outcome, stored: await currentOf(tx, w.type, id) };
}
