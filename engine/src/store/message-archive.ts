/**
 * The message archive: every frame the listener reads becomes a row before any ACK, and the row's
 * status is the truth about what happened to it. Redis only schedules work on top of it.
 */
import { isRowFault, sqlStateOf } from './sql-errors';
import { CodedError, errorGuard } from '../errors/coded-error';
import { contentHash } from '../hl7/content-hash';
import { patientNameDisplay, patientNameKey, type PatientName } from '../hl7/patient-name';
import { settle, type Settled } from '../errors/settled';
import type { Queryable } from './db';
import { errorKeyOfError } from './error-key';

export const MessageStatus = {
  Received: 'received',
  Processed: 'processed',
  Ignored: 'ignored',
  Failed: 'failed',
  Rejected: 'rejected',
} as const;
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];

export interface NewMessage {
  readonly sender: string;
  readonly sendingApplication?: string | undefined;
  readonly sendingFacility?: string | undefined;
  readonly controlId?: string | undefined;
  readonly messageType?: string | undefined;
  readonly triggerEvent?: string | undefined;
  readonly version?: string | undefined;
  readonly charset?: string | undefined;
  readonly patientKey?: string | undefined;
  /** Further patients this message is ordered with (a merge's other record). */
  readonly otherPatientKeys?: readonly string[] | undefined;
  /** PID-5's first repetition: stored for display and as the normalised search key. */
  readonly patientName?: PatientName | undefined;
  readonly raw: Buffer;
  readonly remoteAddress?: string | undefined;
}

/**
 * What names a message's processing job: the row id alone repeats when the database is new (or
 * restored) but Redis still holds the earlier jobs, so the receipt time in microseconds is part
 * of it; `parkCount` makes each wake-up after waiting for an earlier message a new job.
 */
export interface MessageJobRef {
  readonly id: string;
  readonly stamp: string;
  readonly parkCount: number;
}

/** SQL for `MessageJobRef.stamp` of a `messages` row. */
export const JOB_STAMP_SQL = `(extract(epoch FROM received_at) * 1000000)::bigint::text`;

export interface ArchivedMessage {
  readonly id: string;
  readonly sender: string;
  readonly controlId: string | null;
  readonly messageType: string | null;
  readonly triggerEvent: string | null;
  readonly version: string | null;
  readonly charset: string | null;
  readonly patientKey: string | null;
  /** Further patients it is ordered with (see NewMessage). */
  readonly otherPatientKeys: readonly string[];
  readonly raw: Buffer;
  readonly receivedAt: Date;
  readonly status: MessageStatus;
  readonly error: unknown;
  readonly duplicates: number;
  /** Its sender had already used its MSH-10 for a message with other content. */
  readonly controlIdReused: boolean;
  readonly processCount: number;
  readonly processedAt: Date | null;
  readonly processingMs: number | null;
  readonly mappingVersion: string | null;
  readonly output: unknown;
}

/** A `messages` row as both drivers return it. */
export interface MessageRow {
  id: string;
  sender: string;
  control_id: string | null;
  message_type: string | null;
  trigger_event: string | null;
  version: string | null;
  charset: string | null;
  patient_key: string | null;
  order_keys: string[] | null;
  raw: Buffer | Uint8Array;
  received_at: Date | string;
  status: MessageStatus;
  error: unknown;
  duplicates: number;
  control_id_reused: boolean;
  process_count: number;
  processed_at: Date | string | null;
  processing_ms: number | null;
  mapping_version: string | null;
  output: unknown;
}

/** The columns `toArchivedMessage` reads. */
export const MESSAGE_COLUMNS = `id::text AS id, sender, control_id, message_type, trigger_event, version, charset, patient_key,
  order_keys, raw, received_at, status, error, duplicates, control_id_reused, process_count, processed_at, processing_ms,
  mapping_version, output`;

/** Maps a row as both drivers return it (pg gives Buffer, PGlite Uint8Array). */
export function toArchivedMessage(r: MessageRow): ArchivedMessage {
  return {
    id: r.id,
    sender: r.sender,
    controlId: r.control_id,
    messageType: r.message_type,
    triggerEvent: r.trigger_event,
    version: r.version,
    charset: r.charset,
    patientKey: r.patient_key,
    otherPatientKeys: r.order_keys ?? [],
    raw: Buffer.isBuffer(r.raw) ? r.raw : Buffer.from(r.raw),
    receivedAt: new Date(r.received_at),
    status: r.status,
    error: r.error,
    duplicates: r.duplicates,
    controlIdReused: r.control_id_reused,
    processCount: r.process_count,
    processedAt: r.processed_at === null ? null : new Date(r.processed_at),
    processingMs: r.processing_ms,
    mappingVersion: r.mapping_version,
    output: r.output,
  };
}

export interface ArchiveResult extends MessageJobRef {
  readonly id: string;
  /**
   * True when the sender, MSH-10 and content (hl7/content-hash.ts) were already archived; the
   * earlier row's id is returned.
   */
  readonly duplicate: boolean;
  /** Status of the row: a duplicate of an unfinished message must be queued again. */
  readonly status: MessageStatus;
  /**
   * A new row whose sender had already used its MSH-10 for other content (a control-ID counter
   * that restarted); on a duplicate, the flag of the row it duplicates.
   */
  readonly controlIdReused: boolean;
}

export const ArchiveErrorCode = {
  /** The database refused the row itself (a data error): resending the same bytes cannot help. */
  Refused: 'archive-refused',
  /** The database could not be asked, or failed for a reason of its own: try again later. */
  Unavailable: 'archive-unavailable',
} as const;
export type ArchiveErrorCode = (typeof ArchiveErrorCode)[keyof typeof ArchiveErrorCode];

/**
 * A failed archive insert, told apart by SQLSTATE: only a fault in the row (classes 22, data
 * exception; 23, integrity, other than the unique violation ON CONFLICT handles; 54, program limit,
 * e.g. an index row too large) is permanent. Anything else (08 connection, 57P01 shutdown, 53
 * resources, 40 rollback, 57014 timeout, a driver error with no SQLSTATE, even a bug of ours in
 * 42) is transient, because refusing a message for a reason that is not in it loses it.
 */
export class ArchiveError extends CodedError<ArchiveErrorCode> {
  override readonly name = 'ArchiveError';
  /** The SQLSTATE the database answered, when it answered. */
  readonly sqlState: string | undefined;
  constructor(err: unknown) {
    const sqlState = sqlStateOf(err);
    const refused = sqlState !== undefined && isRowFault(sqlState);
    super(
      refused ? ArchiveErrorCode.Refused : ArchiveErrorCode.Unavailable,
      // The database's own message can quote the row's values (PHI): only the SQLSTATE is kept.
      refused
        ? `the message store refused the message (SQLSTATE ${sqlState})`
        : `the message store is unavailable${sqlState !== undefined ? ` (SQLSTATE ${sqlState})` : ''}`,
      { cause: err, transient: !refused },
    );
    this.sqlState = sqlState;
  }
}

export const isArchiveError = errorGuard<ArchiveError>('ArchiveError');

/** Runs one archive statement; a failure becomes an ArchiveError that says whether to retry. */
async function archiveQuery<R extends object>(
  db: Queryable,
  sql: string,
  params: unknown[],
  timeoutMs?: number,
): Promise<R[]> {
  try {
    return await db.query<R>(sql, params, timeoutMs !== undefined ? { timeoutMs } : undefined);
  } catch (err) {
    throw new ArchiveError(err);
  }
}

const INSERT_COLUMNS = `sender, sending_app, sending_facility, control_id, message_type, trigger_event,
  version, charset, patient_key, raw, remote_address, order_keys, patient_name, patient_name_key`;

/** `$1..$14` of an insert, in INSERT_COLUMNS order. */
function insertValues(m: NewMessage): unknown[] {
  return [
    m.sender,
    m.sendingApplication ?? null,
    m.sendingFacility ?? null,
    m.controlId ?? null,
    m.messageType ?? null,
    m.triggerEvent ?? null,
    m.version ?? null,
    m.charset ?? null,
    m.patientKey ?? null,
    m.raw,
    m.remoteAddress ?? null,
    m.otherPatientKeys === undefined || m.otherPatientKeys.length === 0 ? null : m.otherPatientKeys,
    m.patientName === undefined ? null : patientNameDisplay(m.patientName),
    m.patientName === undefined ? null : patientNameKey(m.patientName),
  ];
}

/**
 * Archives an accepted message as `received`. A second message with the same sender, MSH-10 and
 * content is not stored again; its arrival is counted on the first row. One with the same sender
 * and MSH-10 but other content is a new message, stored with `control_id_reused`.
 * @throws ArchiveError, transient unless the database refused the row itself.
 */
export async function archiveMessage(
  db: Queryable,
  m: NewMessage,
  timeoutMs?: number,
): Promise<ArchiveResult> {
  // One statement, atomic on its own: the reuse lookup runs in the INSERT, not a round trip before it.
  const rows = await archiveQuery<ArchivedRow>(
    db,
    `INSERT INTO messages (${INSERT_COLUMNS}, content_hash, control_id_reused, status)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,
       EXISTS (SELECT 1 FROM messages WHERE sender = $1 AND control_id = $4 AND status <> 'rejected'),
       'received')
     ON CONFLICT (sender, control_id, content_hash) WHERE status <> 'rejected'
       DO UPDATE SET duplicates = messages.duplicates + 1
     RETURNING ${ARCHIVED_RETURNING}`,
    [...insertValues(m), contentHash(m.raw)],
    timeoutMs,
  );
  const row = rows[0];
  if (row === undefined) throw new Error('archive insert returned no row');
  return toArchiveResult(row);
}

/** What an archive insert returns of its row. */
interface ArchivedRow {
  id: string;
  duplicate: boolean;
  status: MessageStatus;
  stamp: string;
  park_count: number;
  control_id_reused: boolean;
}

const ARCHIVED_RETURNING = `id::text AS id, (xmax <> 0) AS duplicate, status, ${JOB_STAMP_SQL} AS stamp, park_count,
       control_id_reused`;

function toArchiveResult(row: ArchivedRow): ArchiveResult {
  return {
    id: row.id,
    duplicate: row.duplicate,
    status: row.status,
    stamp: row.stamp,
    parkCount: row.park_count,
    controlIdReused: row.control_id_reused,
  };
}

/**
 * What must not share one batch insert: two messages of one sender and MSH-10 would either hit
 * the same row twice (ON CONFLICT refuses that) or miss each other in the reuse lookup, which
 * sees only rows committed before the statement.
 */
export function archiveBatchKey(m: NewMessage): string {
  return `${m.sender}\u0000${m.controlId ?? ''}`;
}

/**
 * Archives several accepted messages in one statement, each as `archiveMessage` would, in the
 * given order (row ids follow it). The messages must have distinct `archiveBatchKey`s. One
 * statement is one transaction: a transient failure fails them all, and a row the database
 * refuses fails the batch, so each message is then archived alone and only that one is refused.
 * PostgreSQL only: the embedded store has no round trips to save.
 * @param timeoutMs - a tighter bound than the database's own, for all of it.
 * @returns one outcome per message, in order.
 */
export async function archiveMessages(
  db: Queryable,
  messages: readonly NewMessage[],
  timeoutMs?: number,
): Promise<Settled<ArchiveResult>[]> {
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  const left = (): number | undefined =>
    deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
  if (messages.length === 1) return [await settle(archiveMessage(db, messages[0] as NewMessage, left()))];
  const columns: unknown[][] = Array.from({ length: 15 }, () => []);
  for (const m of messages) {
    const values = [...insertValues(m), contentHash(m.raw)];
    // order_keys is an array per row; unnest would flatten an array of arrays, so it goes as JSON.
    values[11] = values[11] === null ? null : JSON.stringify(values[11]);
    values.forEach((v, i) => (columns[i] as unknown[]).push(v));
  }
  let rows: (ArchivedRow & { n: string })[];
  try {
    rows = await archiveQuery<ArchivedRow & { n: string }>(
      db,
      `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[],
                              $15::text[]) WITH ORDINALITY
           AS v(sender, sending_app, sending_facility, control_id, message_type, trigger_event, version, charset,
                patient_key, raw, remote_address, order_keys, patient_name, patient_name_key, content_hash, n)),
       ins AS (
         INSERT INTO messages (${INSERT_COLUMNS}, content_hash, control_id_reused, status)
         SELECT sender, sending_app, sending_facility, control_id, message_type, trigger_event, version, charset,
                patient_key, raw, remote_address,
                CASE WHEN order_keys IS NULL THEN NULL
                     ELSE ARRAY(SELECT jsonb_array_elements_text(order_keys::jsonb)) END,
                patient_name, patient_name_key, content_hash,
                EXISTS (SELECT 1 FROM messages m WHERE m.sender = v.sender AND m.control_id = v.control_id
                          AND m.status <> 'rejected'),
                'received'
           FROM v ORDER BY n
         ON CONFLICT (sender, control_id, content_hash) WHERE status <> 'rejected'
           DO UPDATE SET duplicates = messages.duplicates + 1
         RETURNING ${ARCHIVED_RETURNING}, sender, control_id, content_hash)
       SELECT ins.*, v.n::text AS n FROM ins
         JOIN v ON v.sender = ins.sender AND v.content_hash = ins.content_hash
              AND v.control_id IS NOT DISTINCT FROM ins.control_id`,
      columns,
      left(),
    );
  } catch (err) {
    if (!(isArchiveError(err) && !err.transient)) return messages.map(() => ({ ok: false, error: err }));
    // One row is refused: find it by archiving each alone.
    const outcomes: Settled<ArchiveResult>[] = [];
    for (const m of messages) outcomes.push(await settle(archiveMessage(db, m, left())));
    return outcomes;
  }
  const byOrdinal = new Map(rows.map((r) => [Number(r.n), r]));
  return messages.map((_, i) => {
    const row = byOrdinal.get(i + 1);
    return row === undefined
      ? { ok: false, error: new ArchiveError(new Error('batch archive insert returned no row')) }
      : { ok: true, value: toArchiveResult(row) };
  });
}

/**
 * Archives a message that will never be processed, with the reason, so nothing is silently
 * dropped. The caller bounds what it stores (ingest keeps a head of the frame).
 * @throws ArchiveError, as archiveMessage.
 */
export async function archiveRejected(db: Queryable, m: NewMessage, error: unknown): Promise<string> {
  const rows = await archiveQuery<{ id: string }>(
    db,
    `INSERT INTO messages (${INSERT_COLUMNS}, status, error)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,'rejected',$15) RETURNING id::text AS id`,
    [...insertValues(m), JSON.stringify(error)],
  );
  return rows[0]?.id ?? '';
}

/** Reads one message, or undefined. */
export async function getMessage(
  db: Queryable,
  id: string,
  lock = false,
): Promise<ArchivedMessage | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const rows = await db.query<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] === undefined ? undefined : toArchivedMessage(rows[0]);
}

export interface MessageOutcome {
  readonly status: 'processed' | 'ignored' | 'failed';
  readonly error?: unknown;
  readonly output?: unknown;
  readonly mappingVersion?: string;
  readonly processingMs: number;
  /**
   * Whether this transaction's commit waits for the disk.
   * @defaultValue true
   */
  readonly synchronousCommit?: boolean;
}

/**
 * Records how processing ended. Counts every run, which is how "processed once" is checked. A
 * failure also gets its cause's key (store/error-key.ts), which groups failed messages by cause.
 * A finished message waits for nothing: one the recovery sweep ran while it was parked leaves the
 * parked indexes (migration 15), which hold only messages still waiting.
 */
export async function finishMessage(db: Queryable, id: string, o: MessageOutcome): Promise<void> {
  // The commit mode rides on the same statement: one round trip fewer on every message.
  await db.query(
    `WITH commit_mode AS (SELECT set_config('synchronous_commit', $7, true))
     UPDATE messages SET status = $2, error = $3, output = $4, mapping_version = $5, processing_ms = $6,
       processed_at = clock_timestamp(), process_count = process_count + 1, error_key = $8,
       parked = false
     FROM commit_mode WHERE id = $1`,
    [
      id,
      o.status,
      o.error === undefined ? null : JSON.stringify(o.error),
      o.output === undefined ? null : JSON.stringify(o.output),
      o.mappingVersion ?? null,
      o.processingMs,
      o.synchronousCommit === false ? 'off' : 'on',
      o.status === 'failed' ? (errorKeyOfError(o.error) ?? null) : null,
    ],
    { prepared: true },
  );
}

interface JobRefRow {
  id: string;
  stamp: string;
  park_count: number;
}

/** SQL for the columns of a `MessageJobRef`, as `toJobRef` reads them. */
export const JOB_REF_COLUMNS = `id::text AS id, ${JOB_STAMP_SQL} AS stamp, park_count`;

function toJobRef(r: JobRefRow): MessageJobRef {
  return { id: r.id, stamp: r.stamp, parkCount: r.park_count };
}

/** Unfinished messages received before `before`, oldest first: the recovery sweep's work list. */
export async function listUnfinished(db: Queryable, before: Date, limit: number): Promise<MessageJobRef[]> {
  const rows = await db.query<JobRefRow>(
    `SELECT ${JOB_REF_COLUMNS} FROM messages WHERE status = 'received' AND received_at < $1 ORDER BY messages.id LIMIT $2`,
    [before, limit],
  );
  return rows.map(toJobRef);
}
