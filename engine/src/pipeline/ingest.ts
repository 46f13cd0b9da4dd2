/**
 * The ingest stage: one MLLP event in, one ACK out. AA is written only after the archive row is
 * committed and the job is in Redis; AR for what can never be processed; AE when the store or
 * the queue is down, so the sender retries. What is permanent must never be answered AE: the
 * sender would resend it for ever and its whole queue would stall behind it. So limits are
 * checked before the insert, and a row the database refuses (a data error) is answered AR too.
 *
 * Rejections must not cost more than the message is worth: a rejected row keeps only a head of
 * the frame, and each peer address may add only so many rejected rows a minute; beyond that a
 * frame gets its AR without a row and is counted (`mllp_rejected_unarchived_total`), with one log
 * line per peer per minute. Every frame gets an ACK and is either archived or counted.
 */
import type { Queue } from 'bullmq';
import type { AllowedSender } from '../config/schema';
import { AckErrorCode, buildAck, type AckCode, type AckInput } from '../hl7/build-ack';
import { decodeMessage, looksBinary } from '../hl7/decode-message';
import { Hl7ErrorCode, isHl7ParseError } from '../hl7/hl7-error';
import { readMessageHeader, type MessageHeader } from '../hl7/message-header';
import {
  checkFieldLengths,
  checkRepetitions,
  checkSegmentCount,
  DEFAULT_MESSAGE_LIMITS,
  FIELD_LENGTH_LIMITS,
  type LimitViolation,
  type MessageLimits,
} from '../hl7/message-limits';
import type { MllpEvent } from '../hl7/mllp-frame-reader';
import { parseHl7, type Hl7Message } from '../hl7/parse-message';
import { readPatientName, type PatientName } from '../hl7/patient-name';
import { salvageHeader } from '../hl7/salvage-header';
import type { ConnectionState } from '../observability/connection-state';
import type { Logger } from '../observability/logger';
import { createMetrics, type EngineMetrics } from '../observability/metrics';
import type { Db } from '../store/db';
import {
  archiveBatchKey,
  archiveMessage,
  archiveMessages,
  archiveRejected,
  ArchiveError,
  isArchiveError,
  type ArchiveResult,
  type NewMessage,
} from '../store/message-archive';
import {
  archivedMessageJob,
  traceIdOf,
  type ArchivedMessageJob,
  type ProcessJobData,
} from '../queue/process-queue';
import { CodedError } from '../errors/coded-error';
import { createGroupCommit } from './group-commit';
import { isSenderAllowed } from './sender-allowlist';

/** Bytes of a rejected frame that are archived; oversize frames already arrive as a head this long. */
export const REJECTED_HEAD_BYTES = 4096;
/** Rejected rows one peer address may add per minute before its rejections are only counted. */
export const REJECTED_ROWS_PER_PEER_PER_MINUTE = 60;

export interface IngestDeps {
  readonly db: Db;
  readonly queue: Queue<ProcessJobData>;
  /** undefined: any sender is accepted. */
  readonly allowedSenders: readonly AllowedSender[] | undefined;
  readonly maxFrameBytes: number;
  readonly logger: Logger;
  /**
   * Outages of the archive and the queue, logged once when they start and once when they end;
   * every AE they cause is counted in the ACK metrics instead of a log line per message.
   */
  readonly storeState?: ConnectionState;
  readonly queueState?: ConnectionState;
  /**
   * How long a message may take to be archived (DATABASE_TIMEOUT_MS) and queued
   * (REDIS_TIMEOUT_MS), waiting for an earlier group write included. @defaultValue unbounded
   * here (the database and Redis clients' own timeouts still apply to each write)
   */
  readonly budgets?: { readonly archiveMs: number; readonly queueMs: number };
  /** MLLP_MAX_SEGMENTS and MLLP_MAX_REPETITIONS. @defaultValue their defaults */
  readonly limits?: MessageLimits;
  /**
   * Where archived messages per sender, reused control IDs and unarchived rejections are counted.
   * @defaultValue a private registry
   */
  readonly metrics?: IngestMetrics;
  /** @defaultValue REJECTED_ROWS_PER_PEER_PER_MINUTE */
  readonly rejectedRowsPerPeerPerMinute?: number;
  /** Clock of the per-peer budget, in ms. @defaultValue Date.now */
  readonly now?: () => number;
}

/** Who is on the other end of the connection. */
export interface ConnectionInfo {
  /** `address:port`. */
  readonly remoteAddress: string;
  /** The peer's address without the port, as the listener counts connections (mllp-listener.ts). */
  readonly peer: string;
  /** Subject CN of a verified client certificate (mutual TLS). */
  readonly certificateCn?: string;
}

export interface IngestResult {
  readonly ack: string;
  readonly code: AckCode;
  /** Archive row, when one was written. */
  readonly messageId?: string;
  /** Machine-readable reason for AE/AR. */
  readonly reason?: string;
}

/** Handles one framing event. Never throws for a bad message: every failure becomes an ACK. */
export type Ingest = (event: MllpEvent, conn: ConnectionInfo) => Promise<IngestResult>;

type Rejection = {
  readonly reason: string;
  readonly text: string;
  readonly location?: string | undefined;
  readonly code: AckErrorCode;
};

/** The frame as received: `raw` may be only the head of an oversize one, `bytes` is its size. */
interface Frame {
  readonly raw: Buffer;
  readonly bytes: number;
}

/**
 * What the archive row keeps of a parsed message: its header, and PID-5 for the name search.
 * Read here, not in the header: mapping reads the header of every message it processes too.
 */
type ArchivedHeader = MessageHeader & { readonly patientName?: PatientName | undefined };

/** The counters ingest keeps. */
export type IngestMetrics = Pick<
  EngineMetrics,
  'controlIdReused' | 'rejectedUnarchived' | 'received' | 'senderLabels'
>;

interface IngestContext {
  readonly deps: IngestDeps;
  /** Archives one accepted message; concurrent ones share a statement on PostgreSQL. */
  readonly archive: (row: NewMessage) => Promise<ArchiveResult>;
  /** Queues one archived message's job; concurrent ones share a round trip to Redis. */
  readonly enqueue: (job: ArchivedMessageJob) => Promise<void>;
  readonly limits: MessageLimits;
  readonly metrics: IngestMetrics;
  readonly budget: RejectedRowBudget;
}

/** An ingest stage with its own per-peer budget of rejected rows. */
export function createIngest(deps: IngestDeps): Ingest {
  const ctx: IngestContext = {
    deps,
    ...groupedWrites(deps),
    limits: deps.limits ?? DEFAULT_MESSAGE_LIMITS,
    metrics: deps.metrics ?? createMetrics(false),
    budget: new RejectedRowBudget(
      deps.rejectedRowsPerPeerPerMinute ?? REJECTED_ROWS_PER_PEER_PER_MINUTE,
      60_000,
      deps.now ?? Date.now,
    ),
  };
  return (event, conn) => runIngest(event, conn, ctx);
}

/** Most messages in one archive statement or one queue round trip. */
const MAX_GROUP = 64;

/**
 * The archive insert and the queue add, grouped while one is in flight (group-commit.ts): with
 * many connections sending at once, one statement and one commit serve several messages, which
 * is most of ingest's cost in PostgreSQL. A lone message goes out at once, as it would alone.
 * The embedded store runs in this process, with no round trip to save.
 */
function groupedWrites(deps: IngestDeps): Pick<IngestContext, 'archive' | 'enqueue'> {
  const { db, queue, budgets } = deps;
  const archive =
    db.kind === 'postgres'
      ? createGroupCommit(
          (rows: readonly NewMessage[], remainingMs) => archiveMessages(db, rows, remainingMs),
          {
            maxBatch: MAX_GROUP,
            keyOf: archiveBatchKey,
            ...(budgets !== undefined ? { budgetMs: budgets.archiveMs } : {}),
            expired: () => new ArchiveError(timedOut('the message store')),
          },
        )
      : undefined;
  const enqueue = createGroupCommit(
    async (jobs: readonly ArchivedMessageJob[], remainingMs) => {
      const only = jobs.length === 1 ? jobs[0] : undefined;
      const added: Promise<unknown> =
        only !== undefined ? queue.add(only.name, only.data, only.opts) : queue.addBulk([...jobs]);
      // A job added after its message was answered AE is harmless: the resend finds it by job id.
      await (remainingMs === undefined ? added : withinMs(added, remainingMs, 'the process queue'));
      return jobs.map(() => ({ ok: true as const, value: undefined }));
    },
    {
      maxBatch: MAX_GROUP,
      ...(budgets !== undefined ? { budgetMs: budgets.queueMs } : {}),
      expired: () => timedOut('the process queue'),
    },
  );
  return {
    archive: archive !== undefined ? (row) => archive.submit(row) : (row) => archiveMessage(db, row),
    enqueue: (job) => enqueue.submit(job),
  };
}

/** A transient timeout, as the database and Redis clients report theirs. */
function timedOut(what: string): CodedError<'ETIMEDOUT'> {
  return new CodedError('ETIMEDOUT', `${what} did not answer in time`, { transient: true });
}

async function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(what)), Math.max(1, ms));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function runIngest(event: MllpEvent, conn: ConnectionInfo, ctx: IngestContext): Promise<IngestResult> {
  const raw = event.kind === 'oversize' ? event.head : event.payload;
  const frame: Frame = { raw, bytes: event.kind === 'oversize' ? event.size : raw.length };
  const early = earlyRejection(event, ctx.deps.maxFrameBytes);
  if (early !== undefined) return reject(frame, salvageHeader(raw), early, conn, ctx);

  const decoded = decodeMessage(raw);
  // Before parsing: parsing is what a message of a million tiny segments would make expensive.
  const segments = checkSegmentCount(decoded.text, ctx.limits.maxSegments);
  if (segments !== undefined) return reject(frame, salvageHeader(raw), overLimit(segments), conn, ctx);
  let message: Hl7Message;
  let header: ArchivedHeader;
  try {
    message = parseHl7(decoded.text);
    header = { ...readMessageHeader(message), patientName: readPatientName(message) };
  } catch (err) {
    if (!isHl7ParseError(err)) throw err;
    const rejection: Rejection = {
      reason: err.code,
      text: err.message,
      code: ackErrorFor(err.code),
      location: err.location,
    };
    return reject(frame, salvageHeader(raw), rejection, conn, ctx);
  }
  const lengths = checkFieldLengths(message);
  if (lengths !== undefined) return reject(frame, header, overLimit(lengths), conn, ctx);
  if (!isSenderAllowed(header, conn.certificateCn, ctx.deps.allowedSenders)) {
    const text = `sender ${header.sender} is not authorised on this interface`;
    const code = AckErrorCode.ApplicationInternalError;
    return reject(frame, header, { reason: 'unknown-sender', text, location: 'MSH-4', code }, conn, ctx);
  }
  // After the allowlist: a sender that may not send at all does not get its message scanned.
  const repetitions = checkRepetitions(message, ctx.limits.maxRepetitions);
  if (repetitions !== undefined) return reject(frame, header, overLimit(repetitions), conn, ctx);
  return accept(frame, header, conn, ctx);
}

/** The table 0357 code that names a parse fault, so the sender's analyst knows what to fix. */
function ackErrorFor(code: Hl7ErrorCode): AckErrorCode {
  switch (code) {
    case Hl7ErrorCode.MissingControlId:
    case Hl7ErrorCode.MissingMessageType:
      return AckErrorCode.RequiredFieldMissing;
    // MSH-1/MSH-2 hold characters that cannot be delimiters: a value of the wrong form.
    case Hl7ErrorCode.BadEncodingCharacters:
    case Hl7ErrorCode.Binary:
      return AckErrorCode.DataTypeError;
    case Hl7ErrorCode.NoMsh:
    case Hl7ErrorCode.BadSegment:
      return AckErrorCode.SegmentSequence;
  }
}

function overLimit(v: LimitViolation): Rejection {
  switch (v.fault) {
    // A value longer than its data type allows. (v2.7 added 104 "Value too long", which the ACK
    // builder does not know yet; 102 is right in every version.)
    case 'value-too-long':
      return { reason: v.fault, text: v.text, location: v.location, code: AckErrorCode.DataTypeError };
    // Limits of this interface rather than of HL7, as for an oversize frame.
    case 'too-many-segments':
    case 'too-many-repetitions':
      return {
        reason: v.fault,
        text: v.text,
        location: v.location,
        code: AckErrorCode.ApplicationInternalError,
      };
  }
}

function earlyRejection(event: MllpEvent, maxFrameBytes: number): Rejection | undefined {
  if (event.kind === 'oversize') {
    const text = `frame of ${event.size} bytes exceeds the ${maxFrameBytes}-byte limit`;
    return { reason: 'frame-too-large', text, code: AckErrorCode.ApplicationInternalError };
  }
  if (event.kind === 'truncated') {
    return {
      reason: 'truncated-frame',
      text: 'frame ended without an end block (0x1C 0x0D)',
      code: AckErrorCode.SegmentSequence,
    };
  }
  if (looksBinary(event.payload)) {
    return {
      reason: 'binary-content',
      text: 'frame holds binary data, not HL7 text',
      code: AckErrorCode.DataTypeError,
    };
  }
  return undefined;
}

async function accept(
  frame: Frame,
  h: ArchivedHeader,
  conn: ConnectionInfo,
  ctx: IngestContext,
): Promise<IngestResult> {
  const { deps } = ctx;
  const row: NewMessage = { ...headerColumns(h), raw: frame.raw, remoteAddress: conn.remoteAddress };
  let archived;
  try {
    // One INSERT ... ON CONFLICT is atomic on its own: no BEGIN/COMMIT round trips on the hot path.
    archived = await ctx.archive(row);
  } catch (err) {
    if (isArchiveError(err) && !err.transient) {
      // The database answered, and refused this row: the same bytes will be refused again.
      deps.storeState?.up();
      const text = `${err.message}: correct the message before sending it again`;
      const rejection = { reason: err.code, text, code: AckErrorCode.ApplicationInternalError };
      return reject(frame, h, rejection, conn, ctx);
    }
    deps.storeState?.down(isArchiveError(err) ? err.cause : err);
    return transient(ackOriginal(h), 'store-unavailable', 'message store unavailable, please resend');
  }
  deps.storeState?.up();
  if (!archived.duplicate) {
    ctx.metrics.received.inc({ sender: ctx.metrics.senderLabels.of(h.sendingFacility) });
  }
  // A duplicate of a finished message is acknowledged and left alone; a duplicate of an
  // unfinished one is queued again, because its first send may have failed to reach Redis.
  if (!archived.duplicate || archived.status === 'received') {
    try {
      await ctx.enqueue(archivedMessageJob(archived, { controlId: h.controlId }));
    } catch (err) {
      deps.queueState?.down(err);
      return {
        ...transient(ackOriginal(h), 'queue-unavailable', 'queue unavailable, please resend'),
        messageId: archived.id,
      };
    }
    deps.queueState?.up();
  }
  const logged = { messageId: archived.id, traceId: traceIdOf(archived), controlId: h.controlId };
  if (archived.duplicate) {
    deps.logger.info(logged, 'duplicate message acknowledged');
  } else if (archived.controlIdReused) {
    ctx.metrics.controlIdReused.inc();
    deps.logger.info(logged, 'control ID reused with different content: archived as a new message');
  }
  return { ack: buildAck({ code: 'AA', original: ackOriginal(h) }), code: 'AA', messageId: archived.id };
}

async function reject(
  frame: Frame,
  header: Partial<ArchivedHeader>,
  r: Rejection,
  conn: ConnectionInfo,
  ctx: IngestContext,
): Promise<IngestResult> {
  const { deps } = ctx;
  const columns = boundedColumns(header);
  const error: NonNullable<AckInput['error']> = {
    code: r.code,
    text: r.text,
    ...(r.location !== undefined ? { location: r.location } : {}),
  };
  // MSA-2 echoes MSH-10 as sent, however long: a sender that cannot match the ACK resends.
  const original: AckInput['original'] = {
    controlId: header.controlId,
    sendingApplication: columns.sendingApplication,
    sendingFacility: columns.sendingFacility,
    triggerEvent: columns.triggerEvent,
    version: columns.version,
  };
  const ar: IngestResult = { ack: buildAck({ code: 'AR', original, error }), code: 'AR', reason: r.reason };

  const { peer } = conn;
  const turn = ctx.budget.take(peer);
  if (!turn.archive) {
    ctx.metrics.rejectedUnarchived.inc({ reason: r.reason });
    if (turn.firstOverInWindow) {
      deps.logger.warn(
        {
          peer,
          reason: r.reason,
          limitPerMinute: ctx.budget.perWindow,
          unarchivedInPreviousMinute: turn.unarchivedInPreviousWindow,
        },
        'rejected frames over the per-peer archive limit: answering AR without archiving for the rest of this minute',
      );
    }
    return ar;
  }
  let messageId: string;
  try {
    const row: NewMessage = {
      ...columns,
      raw: frame.raw.subarray(0, REJECTED_HEAD_BYTES),
      remoteAddress: conn.remoteAddress,
    };
    messageId = await archiveRejected(deps.db, row, {
      code: r.reason,
      diagnostics: r.text,
      location: r.location,
      frameBytes: frame.bytes,
    });
  } catch (err) {
    if (isArchiveError(err) && !err.transient) {
      // Not even the bounded row fits: answer what is true of the message and count it.
      deps.storeState?.up();
      ctx.metrics.rejectedUnarchived.inc({ reason: r.reason });
      deps.logger.error(
        { reason: r.reason, sqlState: err.sqlState, peer },
        'rejected message refused by the archive: answered AR without a row',
      );
      return ar;
    }
    // We could not keep even the rejected bytes: ask for a resend rather than lose them.
    deps.storeState?.down(isArchiveError(err) ? err.cause : err);
    return transient(original, 'store-unavailable', 'message store unavailable, please resend');
  }
  deps.storeState?.up();
  ctx.metrics.received.inc({ sender: ctx.metrics.senderLabels.of(columns.sendingFacility) });
  deps.logger.warn({ messageId, controlId: columns.controlId, reason: r.reason }, 'message rejected');
  return { ...ar, messageId };
}

function transient(original: AckInput['original'], reason: string, text: string): IngestResult {
  const ack = buildAck({
    code: 'AE',
    original,
    error: { code: AckErrorCode.ApplicationInternalError, text },
  });
  return { ack, code: 'AE', reason };
}

/**
 * The columns of a rejected row, with every value longer than FIELD_LENGTH_LIMITS allows dropped
 * (the patient key is MSH-4.1|PID-3.1), so the row never fails on the value it was rejected for.
 * No order keys: they only matter to messages that will be processed.
 */
function boundedColumns(h: Partial<ArchivedHeader>): Omit<NewMessage, 'raw'> {
  const app = within(h.sendingApplication, FIELD_LENGTH_LIMITS['MSH-3']);
  const facility = within(h.sendingFacility, FIELD_LENGTH_LIMITS['MSH-4']);
  return {
    sender: `${app ?? ''}^${facility ?? ''}`,
    sendingApplication: app,
    sendingFacility: facility,
    controlId: within(h.controlId, FIELD_LENGTH_LIMITS['MSH-10']),
    messageType: within(h.messageType, FIELD_LENGTH_LIMITS['MSH-9']),
    triggerEvent: within(h.triggerEvent, FIELD_LENGTH_LIMITS['MSH-9']),
    version: within(h.version, FIELD_LENGTH_LIMITS['MSH-12']),
    charset: within(h.charset, FIELD_LENGTH_LIMITS['MSH-12']),
    patientKey: within(h.patientKey, FIELD_LENGTH_LIMITS['MSH-4'] + 1 + FIELD_LENGTH_LIMITS['PID-3.1']),
    // Stored cut to a bounded length (hl7/patient-name.ts), so a long PID-5 cannot fail the row.
    patientName: h.patientName,
  };
}

function within(value: string | undefined, max: number): string | undefined {
  return value !== undefined && value.length <= max ? value : undefined;
}

function headerColumns(h: Partial<ArchivedHeader>): Omit<NewMessage, 'raw'> {
  return {
    sender: h.sender ?? `${h.sendingApplication ?? ''}^${h.sendingFacility ?? ''}`,
    sendingApplication: h.sendingApplication,
    sendingFacility: h.sendingFacility,
    controlId: h.controlId,
    messageType: h.messageType,
    triggerEvent: h.triggerEvent,
    version: h.version,
    charset: h.charset,
    patientKey: h.patientKey,
    otherPatientKeys: h.otherPatientKeys,
    patientName: h.patientName,
  };
}

function ackOriginal(h: Partial<MessageHeader>): AckInput['original'] {
  const { controlId, sendingApplication, sendingFacility, triggerEvent, version } = h;
  return { controlId, sendingApplication, sendingFacility, triggerEvent, version };
}

/** One peer's turn: whether its rejected frame gets a row. */
export interface BudgetTurn {
  readonly archive: boolean;
  /** The first frame of this window over the budget: the moment to log, once a window. */
  readonly firstOverInWindow: boolean;
  /** Frames the peer had answered without a row in its previous window (for that log line). */
  readonly unarchivedInPreviousWindow: number;
}

/**
 * Rejected rows per peer in fixed windows (a minute from the peer's first rejection). Memory is
 * one small entry per peer with a rejection in its current window; ended windows are dropped.
 */
export class RejectedRowBudget {
  private readonly peers = new Map<string, { start: number; archived: number; unarchived: number }>();
  private readonly previous = new Map<string, number>();
  readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(perWindow: number, windowMs: number, now: () => number) {
    this.perWindow = perWindow;
    this.windowMs = windowMs;
    this.now = now;
  }

  take(peer: string): BudgetTurn {
    const t = this.now();
    let w = this.peers.get(peer);
    if (w !== undefined && t - w.start >= this.windowMs) {
      if (w.unarchived > 0) this.previous.set(peer, w.unarchived);
      w = undefined;
    }
    if (w === undefined) {
      this.sweep(t);
      w = { start: t, archived: 0, unarchived: 0 };
      this.peers.set(peer, w);
    }
    if (w.archived < this.perWindow) {
      w.archived++;
      return { archive: true, firstOverInWindow: false, unarchivedInPreviousWindow: 0 };
    }
    w.unarchived++;
    const first = w.unarchived === 1;
    const before = first ? (this.previous.get(peer) ?? 0) : 0;
    if (first) this.previous.delete(peer);
    return { archive: false, firstOverInWindow: first, unarchivedInPreviousWindow: before };
  }

  /** Forgets peers whose window has ended, when there are enough of them to matter. */
  private sweep(t: number): void {
    if (this.peers.size < 1024) return;
    for (const [peer, w] of this.peers) {
      if (t - w.start >= this.windowMs) this.peers.delete(peer);
    }
    this.previous.clear();
  }
}
