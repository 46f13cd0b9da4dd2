/**
 * The processing stage: takes an archived message, keeps per-patient order, and runs the
 * message handler (map, link, store) in one transaction with the status change, so a worker
 * killed mid-job leaves nothing half-done and a re-run processes the message exactly once.
 */
import { CodedError } from '../errors/coded-error';
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { decodeMessage } from '../hl7/decode-message';
import { isHl7ParseError } from '../hl7/hl7-error';
import { parseHl7, type Hl7Message } from '../hl7/parse-message';
import type { Logger } from '../observability/logger';
import type { EngineMetrics } from '../observability/metrics';
import type { Db, Queryable } from '../store/db';
import {
  finishMessage,
  getMessage,
  getProcessingState,
  type ArchivedMessage,
} from '../store/message-archive';
import { PROCESS_QUEUE, createProcessQueue, type ProcessJobData } from '../queue/process-queue';
import type { RegisteredWorker } from '../queue/queue-registry';

/** What the handler made of a message. */
export interface HandlerResult {
  readonly status: 'processed' | 'ignored';
  /** Kept on the archive row for the analyst (the FHIR Bundle, or why it was ignored). */
  readonly output?: unknown;
  readonly mappingVersion?: string;
}

/**
 * Turns one message into stored FHIR, inside the caller's transaction. Throws a
 * `PermanentProcessingError` (by name) for problems a retry cannot fix.
 */
export type MessageHandler = (
  message: ArchivedMessage,
  parsed: Hl7Message,
  tx: Queryable,
) => Promise<HandlerResult>;

/** A failure no retry will fix (bad mapping output, unparseable message). */
export class PermanentProcessingError extends CodedError<string> {
  override readonly name = 'PermanentProcessingError';
  /** OperationOutcome or other JSON detail stored on the message. */
  readonly detail: unknown;
  constructor(code: string, message: string, detail?: unknown) {
    super(code, message);
    this.detail = detail;
  }
}

/** Errors no retry can fix, recognised by name because errors lose their prototype across Redis. */
const PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  'PermanentProcessingError',
  'MappingError',
  'FhirStoreError',
]);

function isPermanent(err: unknown): err is PermanentProcessingError {
  return err instanceof Error && (PERMANENT_ERRORS.has(err.name) || isHl7ParseError(err));
}

export interface ProcessDeps {
  readonly db: Db;
  readonly handle: MessageHandler;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
}

export type ProcessOutcome =
  'processed' | 'ignored' | 'failed' | 'already-finished' | 'waiting-for-earlier' | 'missing';

/** Processes one message; pure of BullMQ so tests and replays can call it directly. */
export async function runProcessMessage(
  data: ProcessJobData,
  deps: ProcessDeps,
  lastAttempt = true,
): Promise<ProcessOutcome> {
  const state = await getProcessingState(deps.db, data.messageId);
  if (state === undefined) return 'missing';
  if (state.status !== 'received') return 'already-finished';
  if (state.waitForEarlier) return 'waiting-for-earlier';
  const started = performance.now();
  try {
    const status = await deps.db.transaction(async (tx) => {
      // Derived state only: if the server crashes before this commit reaches disk, the message's
      // status rolls back with its resources and the recovery sweep processes it again. Not
      // waiting for the flush keeps the disk free for ingest, whose archive rows do wait for it.
      await tx.query('SET LOCAL synchronous_commit = off');
      const row = await getMessage(tx, data.messageId, true);
      if (row?.status !== 'received') return 'already-finished' as const;
      const parsed = parseHl7(decodeMessage(row.raw).text);
      const result = await deps.handle(row, parsed, tx);
      await finishMessage(tx, row.id, { ...result, processingMs: performance.now() - started });
      return result.status;
    });
    if (status !== 'already-finished') observe(deps, status, started);
    return status;
  } catch (err) {
    if (!isPermanent(err) && !lastAttempt) throw err;
    const error = describeFailure(err);
    await finishMessage(deps.db, data.messageId, {
      status: 'failed',
      error,
      processingMs: performance.now() - started,
    });
    observe(deps, 'failed', started);
    deps.logger.warn(
      { messageId: data.messageId, controlId: data.controlId, code: error.code },
      'message failed',
    );
    if (isPermanent(err)) throw new UnrecoverableError(`${error.code}: ${error.diagnostics}`);
    throw err;
  }
}

function observe(deps: ProcessDeps, status: string, started: number): void {
  deps.metrics.processed.inc({ status });
  deps.metrics.processingSeconds.observe((performance.now() - started) / 1000);
}

function describeFailure(err: unknown): { code: string; diagnostics: string; detail?: unknown } {
  if (!(err instanceof Error)) return { code: 'unknown', diagnostics: String(err) };
  const e = err as Error & { code?: unknown; detail?: unknown; outcome?: unknown };
  const code = typeof e.code === 'string' ? e.code : e.name;
  const detail = e.detail ?? e.outcome;
  return { code, diagnostics: e.message, ...(detail !== undefined ? { detail } : {}) };
}

export interface ProcessWorkerOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly concurrency: number;
  /** Lock and stall-check timing; shorter in tests that kill workers. */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  /** How long a message waits before checking again whether an earlier one has finished. */
  readonly orderingDelayMs?: number;
  /** Awaited before each job: the ingest-first gate (see ingest-pressure.ts). */
  readonly beforeJob?: () => Promise<void>;
  /** Called after each job, whatever its outcome. */
  readonly afterJob?: () => void;
}

/** Creates the BullMQ worker (and its queue handle) for the processing stage. */
export function createProcessWorker(deps: ProcessDeps, o: ProcessWorkerOptions): RegisteredWorker {
  const queue = createProcessQueue(o.connection, o.prefix);
  const processor = async (job: Job<ProcessJobData>, token?: string): Promise<ProcessOutcome> => {
    await o.beforeJob?.();
    const attempts = job.opts.attempts ?? 1;
    const outcome = await runProcessMessage(job.data, deps, job.attemptsMade + 1 >= attempts).finally(() =>
      o.afterJob?.(),
    );
    if (outcome === 'waiting-for-earlier') {
      // Same patient, earlier message unfinished: come back shortly without using an attempt.
      await job.moveToDelayed(Date.now() + (o.orderingDelayMs ?? 25), token);
      throw new DelayedError();
    }
    return outcome;
  };
  const worker = new Worker<ProcessJobData, ProcessOutcome>(PROCESS_QUEUE, processor, {
    connection: o.connection,
    prefix: o.prefix,
    concurrency: o.concurrency,
    ...(o.lockDurationMs !== undefined ? { lockDuration: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs !== undefined ? { stalledInterval: o.stalledIntervalMs } : {}),
  });
  worker.on('error', (err) => deps.logger.error({ err: err.message }, 'process worker error'));
  return { name: PROCESS_QUEUE, queue, worker };
}
