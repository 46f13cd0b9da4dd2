/**
 * The processing stage: an archived message becomes stored FHIR and the events it amounts to,
 * in one transaction with its status change and the outbox rows, under an advisory lock on its
 * patients. A worker killed mid-job leaves nothing half-done; a message whose patient has an
 * earlier unfinished message parks, and the earlier one hands over when it finishes, so order
 * holds across any number of workers and processes without polling.
 */
import type { Queue } from 'bullmq';
import { isTransient } from '../errors/coded-error';
import { decodeMessage } from '../hl7/decode-message';
import { parseHl7, type Hl7Message } from '../hl7/parse-message';
import {
  deriveEvents,
  locationPlaces,
  MAX_LOCATION_DEPTH,
  movedLocations,
  type ClinicalEvent,
  type LocationPlaces,
  type ResultFlags,
} from '../notify/derive-events';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import { segmentLabel, type EngineMetrics } from '../observability/metrics';
import type { ResourceChange } from '../store/bundle-hooks';
import type { Db, Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { finishMessage, type ArchivedMessage, type MessageJobRef } from '../store/message-archive';
import {
  lockMessageInTurn,
  lockOrderKeys,
  parkMessage,
  readOrderHead,
  takeParkedSuccessors,
} from '../store/message-order';
import { insertOutboxEvents, type OutboxRef } from '../store/outbox';
import { queueArchivedMessage, type ProcessJobData } from '../queue/process-queue';

/** What the handler made of a message. */
export interface HandlerResult {
  readonly status: 'processed' | 'ignored';
  /** Kept on the archive row for the analyst (what was stored, or why it was ignored). */
  readonly output?: unknown;
  readonly mappingVersion?: string;
  /** The store's changes, with the versions before and after; events are derived from these. */
  readonly changes?: readonly ResourceChange[];
  /** The result interpretations in force with the mapping set (notify/result-flags.ts). */
  readonly resultFlags?: ResultFlags;
  /** The name of each segment the mapping left unmapped (also a warning in `output`), to count. */
  readonly unmappedSegments?: readonly string[];
}

/**
 * Turns one message into stored FHIR, inside the caller's transaction. Throws an error whose
 * `transient` says whether a retry can help (a mapping error cannot).
 */
export type MessageHandler = (
  message: ArchivedMessage,
  parsed: Hl7Message,
  tx: Queryable,
) => Promise<HandlerResult>;

/**
 * Which keys a message is ordered on. Patient keys (`MSH-4|PID-3.1`, and a merge's other record)
 * today; identity resolves them to the person, so one person's messages from two hospitals are
 * ordered together, without this stage changing.
 */
export type OrderKeyResolver = (
  message: Pick<ArchivedMessage, 'patientKey' | 'otherPatientKeys'>,
  tx: Queryable,
) => Promise<readonly string[]>;

/** The keys the archive row names. */
export const archivedOrderKeys: OrderKeyResolver = (m) =>
  Promise.resolve(m.patientKey === null ? [] : [m.patientKey, ...m.otherPatientKeys]);

/** What happens after a commit: queue the woken successors and relay the outbox rows. */
export interface ProcessAfterCommit {
  readonly queue: Queue<ProcessJobData>;
  relay(refs: readonly OutboxRef[], traceId: string): Promise<void>;
}

export interface ProcessDeps {
  readonly db: Db;
  readonly handle: MessageHandler;
  readonly orderKeys?: OrderKeyResolver;
  readonly after: ProcessAfterCommit;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
}

export type ProcessOutcome = 'processed' | 'ignored' | 'failed' | 'already-finished' | 'parked' | 'missing';

interface Committed {
  readonly outcome: ProcessOutcome;
  /** The archive row's MSH-4.1, for the per-sender counters; unset when not read. */
  readonly sendingFacility?: string | null;
  readonly wake: readonly MessageJobRef[];
  readonly events: readonly OutboxRef[];
  readonly unmappedSegments?: readonly string[];
}

const NOTHING: Omit<Committed, 'outcome'> = { wake: [], events: [] };

/** Processes one message; pure of BullMQ so tests and replays can call it directly. */
export async function runProcessMessage(
  data: ProcessJobData,
  deps: ProcessDeps,
  lastAttempt = true,
): Promise<ProcessOutcome> {
  const log = deps.logger.child({ traceId: data.traceId, messageId: data.messageId });
  const started = performance.now();
  let committed: Committed;
  try {
    committed = await deps.db.transaction((tx) => processInTransaction(tx, data.messageId, deps, started));
  } catch (err) {
    if (isTransient(err) && !lastAttempt) {
      log.warn({ err: describeError(err) }, 'processing failed, will retry');
      throw err;
    }
    committed = await deps.db.transaction((tx) => failInTransaction(tx, data.messageId, err, deps, started));
    log.warn({ controlId: data.controlId, err: describeError(err) }, 'message failed');
  }
  if (
    committed.outcome === 'processed' ||
    committed.outcome === 'ignored' ||
    committed.outcome === 'failed'
  ) {
    deps.metrics.processed.inc({
      sender: deps.metrics.senderLabels.of(committed.sendingFacility),
      status: committed.outcome,
    });
    deps.metrics.processingSeconds.observe((performance.now() - started) / 1000);
    countUnmapped(deps.metrics, committed);
  }
  await afterCommit(committed, data, deps, log);
  return committed.outcome;
}

/** Counts each unmapped segment by sender and segment name, once the message has committed. */
function countUnmapped(metrics: EngineMetrics, c: Committed): void {
  if (c.unmappedSegments === undefined || c.unmappedSegments.length === 0) return;
  const sender = metrics.senderLabels.of(c.sendingFacility);
  for (const name of c.unmappedSegments) {
    metrics.unmappedSegments.inc({ sender, segment: segmentLabel(name) });
  }
}

/**
 * The message's order keys, locked until the transaction ends; or, when it is gone or already
 * finished, the outcome. Bounded by the session's lock_timeout: a lock held by a stalled
 * transaction fails this attempt, which retries.
 */
async function lockKeysOf(
  tx: Queryable,
  id: string,
  deps: ProcessDeps,
): Promise<{ readonly keys: readonly string[]; readonly sendingFacility: string | null } | Committed> {
  const head = await readOrderHead(tx, id);
  if (head === undefined) return { outcome: 'missing', ...NOTHING };
  if (head.status !== 'received') return { outcome: 'already-finished', ...NOTHING };
  const keys = await (deps.orderKeys ?? archivedOrderKeys)(head, tx);
  await lockOrderKeys(tx, keys);
  return { keys, sendingFacility: head.sendingFacility };
}

async function processInTransaction(
  tx: Queryable,
  id: string,
  deps: ProcessDeps,
  started: number,
): Promise<Committed> {
  const locked = await lockKeysOf(tx, id, deps);
  if ('outcome' in locked) return locked;
  const { keys, sendingFacility } = locked;
  const turn = await lockMessageInTurn(tx, id, keys);
  if (turn?.message.status !== 'received') return { outcome: 'already-finished', ...NOTHING };
  if (turn.waitForEarlier) {
    await parkMessage(tx, id);
    return { outcome: 'parked', ...NOTHING };
  }
  const row = turn.message;
  const parsed = parseHl7(decodeMessage(row.raw).text);
  const result = await deps.handle(row, parsed, tx);
  const changes = result.changes ?? [];
  const places = await readLocationPlaces(tx, movedLocations(changes));
  const derived = deriveEvents(changes, result.resultFlags, places !== undefined ? { places } : {});
  const events = await insertOutboxEvents(tx, id, derived.map(toOutboxEvent));
  const { changes: _changes, resultFlags: _flags, unmappedSegments, ...kept } = result;
  await finishMessage(tx, id, {
    ...kept,
    processingMs: performance.now() - started,
    // Derived state may commit without waiting for the disk: a crash rolls the status back with
    // the resources and the sweep redoes it. Not so once events exist: one could be relayed
    // before the crash, pointing at a version that then vanished.
    synchronousCommit: events.length > 0,
  });
  const wake = await takeParkedSuccessors(tx, keys);
  return {
    outcome: result.status,
    sendingFacility,
    wake,
    events,
    ...(unmappedSegments !== undefined ? { unmappedSegments } : {}),
  };
}

/**
 * The Locations an encounter moved between and their `partOf` parents, in one query, as the
 * transaction sees them (this message's Locations included): whether a move left the unit.
 * Undefined, with no query, when no encounter moved.
 */
async function readLocationPlaces(
  tx: Queryable,
  references: readonly string[],
): Promise<LocationPlaces | undefined> {
  const ids = references.filter((r) => r.startsWith('Location/')).map((r) => r.slice('Location/'.length));
  if (ids.length === 0) return undefined;
  const rows = await tx.query<{ id: string; resource: JsonObject }>(
    `WITH RECURSIVE chain (id, resource, depth) AS (
       SELECT id, resource, 1 FROM fhir_resources
        WHERE resource_type = 'Location' AND id = ANY($1::text[]) AND NOT deleted
       UNION ALL
       SELECT p.id, p.resource, c.depth + 1 FROM chain c
         JOIN fhir_resources p ON p.resource_type = 'Location' AND NOT p.deleted
          AND p.id = substr(c.resource #>> '{partOf,reference}', 10)
        WHERE c.depth < $2 AND c.resource #>> '{partOf,reference}' LIKE 'Location/%'
     )
     SELECT id, resource FROM chain`,
    [ids, MAX_LOCATION_DEPTH],
    { prepared: true },
  );
  return locationPlaces(new Map(rows.map((r) => [`Location/${r.id}`, r.resource])));
}

/** Marks the message failed and hands over to its successor, in one transaction under the lock. */
async function failInTransaction(
  tx: Queryable,
  id: string,
  err: unknown,
  deps: ProcessDeps,
  started: number,
): Promise<Committed> {
  const locked = await lockKeysOf(tx, id, deps);
  if ('outcome' in locked) return locked;
  const { keys, sendingFacility } = locked;
  const error = failureOf(err);
  await finishMessage(tx, id, {
    status: 'failed',
    error,
    ...(error.mappingVersion !== undefined ? { mappingVersion: error.mappingVersion } : {}),
    processingMs: performance.now() - started,
  });
  // A message that failed for good no longer holds its patient's later messages back.
  const wake = await takeParkedSuccessors(tx, keys);
  return { outcome: 'failed', sendingFacility, wake, events: [] };
}

async function afterCommit(
  c: Committed,
  data: ProcessJobData,
  deps: ProcessDeps,
  log: Logger,
): Promise<void> {
  // Failures here lose nothing: a woken message is still `received` (the sweep queues it) and an
  // unrelayed outbox row is relayed by the outbox sweep.
  for (const ref of c.wake) {
    await queueArchivedMessage(deps.after.queue, ref).catch((err: unknown) =>
      log.warn({ err: describeError(err), woken: ref.id }, 'hand-over not queued'),
    );
  }
  await deps.after
    .relay(c.events, data.traceId)
    .catch((err: unknown) => log.warn({ err: describeError(err) }, 'events not relayed yet'));
}

function toOutboxEvent(e: ClinicalEvent): {
  key: string;
  kind: string;
  patient: string | undefined;
  payload: Record<string, unknown>;
} {
  return {
    key: e.key,
    kind: e.kind,
    patient: e.patient,
    payload: {
      focus: e.focus,
      patient: e.patient,
      ...(e.previous !== undefined ? { previous: e.previous } : {}),
      ...(e.correction === true ? { correction: true } : {}),
    },
  };
}

/** What the archive row says about a failure (store/error-key.ts and the message view read it). */
interface StoredFailure {
  readonly code: string;
  readonly diagnostics: string;
  /** The HL7 location at fault (a MappingError's), or the FHIR path a store refusal names. */
  readonly location?: string;
  /** The mapping rule that failed. */
  readonly rule?: string;
  readonly mappingFile?: string;
  readonly mappingVersion?: string;
  /** The error's OperationOutcome, if it has one. */
  readonly detail?: unknown;
}

/** The code, the reason, where and in which rule, and any OperationOutcome. */
function failureOf(err: unknown): StoredFailure {
  const { code, message } = describeError(err);
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const detail = e['detail'] ?? e['outcome'];
  const field = (name: string): string | undefined => {
    const v = e[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const location = field('location') ?? field('expression');
  const rule = field('rule');
  const mappingFile = field('mappingFile');
  const mappingVersion = field('mappingVersion');
  return {
    code,
    diagnostics: message,
    ...(location !== undefined ? { location } : {}),
    ...(rule !== undefined ? { rule } : {}),
    ...(mappingFile !== undefined ? { mappingFile } : {}),
    ...(mappingVersion !== undefined ? { mappingVersion } : {}),
    ...(detail !== undefined ? { detail } : {}),
  };
}
