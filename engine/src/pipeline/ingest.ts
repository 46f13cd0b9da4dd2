/**
 * The ingest stage: one MLLP event in, one ACK out. AA is written only after the archive row is
 * committed and the job is in Redis; AR for what can never be processed; AE when the store or
 * the queue is down, so the sender retries.
 */
import type { Queue } from 'bullmq';
import type { AllowedSender } from '../config/schema';
import { AckErrorCode, buildAck, type AckCode, type AckInput } from '../hl7/build-ack';
import { decodeMessage, looksBinary } from '../hl7/decode-message';
import { Hl7ErrorCode, isHl7ParseError } from '../hl7/hl7-error';
import { readMessageHeader, type MessageHeader } from '../hl7/message-header';
import type { MllpEvent } from '../hl7/mllp-frame-reader';
import { parseHl7 } from '../hl7/parse-message';
import { salvageHeader } from '../hl7/salvage-header';
import type { ConnectionState } from '../observability/connection-state';
import type { Logger } from '../observability/logger';
import type { Db } from '../store/db';
import { archiveMessage, archiveRejected, type NewMessage } from '../store/message-archive';
import { enqueueMessage, messageJobId, traceIdOf, type ProcessJobData } from '../queue/process-queue';
import { isSenderAllowed } from './sender-allowlist';

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
}

/** Who is on the other end of the connection. */
export interface ConnectionInfo {
  readonly remoteAddress: string;
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

type Rejection = {
  readonly reason: string;
  readonly text: string;
  readonly location?: string;
  readonly code: AckErrorCode;
};

/** Runs ingest for one framing event. Never throws: every failure becomes an ACK. */
export async function runIngest(
  event: MllpEvent,
  conn: ConnectionInfo,
  deps: IngestDeps,
): Promise<IngestResult> {
  const raw = event.kind === 'oversize' ? event.head : event.payload;
  const early = earlyRejection(event, deps.maxFrameBytes);
  if (early !== undefined) return reject(raw, salvageHeader(raw), early, conn, deps);

  const decoded = decodeMessage(raw);
  let header: MessageHeader;
  try {
    header = readMessageHeader(parseHl7(decoded.text));
  } catch (err) {
    if (!isHl7ParseError(err)) throw err;
    const rejection: Rejection = {
      reason: err.code,
      text: err.message,
      code: ackErrorFor(err.code),
      ...(err.location !== undefined ? { location: err.location } : {}),
    };
    return reject(raw, salvageHeader(raw), rejection, conn, deps);
  }
  if (!isSenderAllowed(header, conn.certificateCn, deps.allowedSenders)) {
    const text = `sender ${header.sender} is not authorised on this interface`;
    return reject(
      raw,
      header,
      { reason: 'unknown-sender', text, location: 'MSH-4', code: AckErrorCode.ApplicationInternalError },
      conn,
      deps,
    );
  }
  return accept(raw, header, conn, deps);
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
  raw: Buffer,
  h: MessageHeader,
  conn: ConnectionInfo,
  deps: IngestDeps,
): Promise<IngestResult> {
  const row: NewMessage = { ...headerColumns(h), raw, remoteAddress: conn.remoteAddress };
  let archived;
  try {
    // One INSERT ... ON CONFLICT is atomic on its own: no BEGIN/COMMIT round trips on the hot path.
    archived = await archiveMessage(deps.db, row);
  } catch (err) {
    deps.storeState?.down(err);
    return transient(h, 'store-unavailable', 'message store unavailable, please resend');
  }
  deps.storeState?.up();
  // A duplicate of a finished message is acknowledged and left alone; a duplicate of an
  // unfinished one is queued again, because its first send may have failed to reach Redis.
  if (!archived.duplicate || archived.status === 'received') {
    try {
      await enqueueMessage(
        deps.queue,
        { messageId: archived.id, controlId: h.controlId, traceId: traceIdOf(archived) },
        messageJobId(archived),
      );
    } catch (err) {
      deps.queueState?.down(err);
      return {
        ...transient(h, 'queue-unavailable', 'queue unavailable, please resend'),
        messageId: archived.id,
      };
    }
    deps.queueState?.up();
  }
  if (archived.duplicate) {
    deps.logger.info(
      { messageId: archived.id, traceId: traceIdOf(archived), controlId: h.controlId },
      'duplicate message acknowledged',
    );
  }
  return { ack: buildAck({ code: 'AA', original: ackOriginal(h) }), code: 'AA', messageId: archived.id };
}

async function reject(
  raw: Buffer,
  h: Partial<MessageHeader>,
  r: Rejection,
  conn: ConnectionInfo,
  deps: IngestDeps,
): Promise<IngestResult> {
  let messageId: string;
  try {
    const row: NewMessage = { ...headerColumns(h), raw, remoteAddress: conn.remoteAddress };
    messageId = await archiveRejected(deps.db, row, {
      code: r.reason,
      diagnostics: r.text,
      location: r.location,
    });
  } catch (err) {
    // We could not keep even the rejected bytes: ask for a resend rather than lose them.
    deps.storeState?.down(err);
    return transient(h, 'store-unavailable', 'message store unavailable, please resend');
  }
  deps.logger.warn({ messageId, controlId: h.controlId, reason: r.reason }, 'message rejected');
  const error: NonNullable<AckInput['error']> = {
    code: r.code,
    text: r.text,
    ...(r.location !== undefined ? { location: r.location } : {}),
  };
  return {
    ack: buildAck({ code: 'AR', original: ackOriginal(h), error }),
    code: 'AR',
    messageId,
    reason: r.reason,
  };
}

function transient(h: Partial<MessageHeader>, reason: string, text: string): IngestResult {
  const ack = buildAck({
    code: 'AE',
    original: ackOriginal(h),
    error: { code: AckErrorCode.ApplicationInternalError, text },
  });
  return { ack, code: 'AE', reason };
}

function headerColumns(h: Partial<MessageHeader>): Omit<NewMessage, 'raw'> {
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
  };
}

function ackOriginal(h: Partial<MessageHeader>): AckInput['original'] {
  const { controlId, sendingApplication, sendingFacility, triggerEvent, version } = h;
  return { controlId, sendingApplication, sendingFacility, triggerEvent, version };
}
