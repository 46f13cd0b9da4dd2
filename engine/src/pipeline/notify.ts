/**
 * The notify stage: one committed event in, its notices out. Works out who the patient's PCPs
 * are (notify/attribution.ts), which registered practices and subscriptions are to hear of it,
 * and writes one notice per recipient (inbox entries in place) in one transaction with the
 * outbox row's new status. Delivery is the next stage's, one job per notice, so one endpoint
 * that is down holds up no other.
 */
import { Worker, type ConnectionOptions, type Job, type Queue } from 'bullmq';
import { isTransient } from '../errors/coded-error';
import { attributePatient, type RosterLookup } from '../notify/attribution';
import type { EventKind } from '../notify/derive-events';
import { buildInboxCommunication } from '../notify/inbox-communication';
import { readFocusVersion, unversioned } from '../notify/notice-resources';
import { planNotices } from '../notify/plan-notices';
import { findRecipients } from '../notify/recipient-directory';
import { matchingSubscriptions, takeEventNumbers } from '../notify/subscription-directory';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { writeVersion } from '../store/fhir-version-writer';
import { insertNotices, type NoticeRef } from '../store/notification-store';
import { finishOutboxRow, lockOutboxRow, type OutboxRow } from '../store/outbox';
import { NOTIFY_QUEUE, createNotifyQueue, type NotifyJobData } from '../queue/notify-queue';
import type { RegisteredWorker } from '../queue/queue-registry';

export interface NotifyDeps {
  readonly db: Db;
  readonly rosters?: RosterLookup;
  /** Queues the delivery of notices once their transaction has committed. */
  relay(refs: readonly NoticeRef[], traceId: string): Promise<void>;
  readonly logger: Logger;
}

export type NotifyOutcome = 'notified' | 'no-recipient' | 'already-finished' | 'missing';

function refOf(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = (v as JsonObject)['reference'];
  return typeof r === 'string' ? r : undefined;
}

/**
 * Writes an inbox Communication unless a redo already did: a first version is not written over
 * a stored one (writeVersion inserts it only where none is), so no read is needed first.
 */
async function writeInbox(tx: Queryable, row: OutboxRow, body: JsonObject): Promise<void> {
  const id = String(body['id']);
  const now = new Date().toISOString();
  await writeVersion(
    tx,
    {
      type: 'Communication',
      id,
      body,
      deleted: false,
      eventTime: now,
      lastUpdated: now,
      messageId: row.messageId,
    },
    undefined,
  );
}

async function notifyInTransaction(
  tx: Queryable,
  outboxId: string,
  deps: NotifyDeps,
): Promise<{ outcome: NotifyOutcome; refs: NoticeRef[]; row?: OutboxRow }> {
  const row = await lockOutboxRow(tx, outboxId);
  if (row === undefined) return { outcome: 'missing', refs: [] };
  if (row.status !== 'pending') return { outcome: 'already-finished', refs: [] };
  const patient = typeof row.payload['patient'] === 'string' ? row.payload['patient'] : undefined;
  const focus = typeof row.payload['focus'] === 'string' ? row.payload['focus'] : undefined;
  const patientId = patient?.startsWith('Patient/') === true ? patient.slice(8) : undefined;
  const attribution =
    patientId === undefined
      ? { patients: [], attributions: [] }
      : await attributePatient(tx, patientId, deps.rosters);
  const recipients = await findRecipients(tx, attribution.attributions);
  const focusBody = focus === undefined ? undefined : await readFocusVersion(tx, focus);
  const serviceProvider = refOf(focusBody?.['serviceProvider']);
  const subscriptions = await matchingSubscriptions(tx, {
    kind: row.kind as EventKind,
    patients: attribution.patients,
    practitioners: [
      ...new Set([
        ...attribution.attributions.flatMap((a) =>
          a.ref?.startsWith('Practitioner/') === true ? [a.ref] : [],
        ),
        ...recipients.flatMap((r) => (r.practitioner !== undefined ? [r.practitioner] : [])),
      ]),
    ],
    organizations: [
      ...new Set([
        ...recipients.flatMap((r) => (r.organization !== undefined ? [r.organization] : [])),
        ...(serviceProvider !== undefined ? [serviceProvider] : []),
      ]),
    ],
  });
  const plan = planNotices(row.eventKey, recipients, subscriptions);
  if (plan.notices.length === 0) {
    await finishOutboxRow(tx, row.id, 'no-recipient', {
      attributed: attribution.attributions.map((a) => a.reason),
    });
    return { outcome: 'no-recipient', refs: [], row };
  }
  const numbers = await takeEventNumbers(tx, plan.subscriptions);
  const sent = row.createdAt.toISOString();
  for (const entry of plan.inbox) {
    await writeInbox(
      tx,
      row,
      buildInboxCommunication({
        noticeId: entry.noticeId,
        kind: row.kind,
        correction: row.payload['correction'] === true,
        patient: patient ?? '',
        about: focus === undefined ? (patient ?? '') : unversioned(focus),
        recipients: entry.recipients,
        sent,
      }),
    );
  }
  const refs = await insertNotices(
    tx,
    { outboxId: row.id, eventKey: row.eventKey, kind: row.kind, patient: patient ?? null },
    plan.notices.map((n) => {
      const number = n.channel === 'subscription' ? numbers.get(n.target.slice(13)) : undefined;
      return number === undefined ? n : { ...n, eventNumber: number };
    }),
  );
  await finishOutboxRow(tx, row.id, 'notified', {
    notices: plan.notices.length,
    sources: [...new Set(plan.notices.flatMap((n) => n.reasons.map((r) => r.source)))],
  });
  return { outcome: 'notified', refs, row };
}

/** Attributes one event; pure of BullMQ. Throws to retry (transient) or gives up (recorded). */
export async function runNotify(
  data: NotifyJobData,
  deps: NotifyDeps,
  lastAttempt = true,
): Promise<NotifyOutcome> {
  const log = deps.logger.child({ traceId: data.traceId, outboxId: data.outboxId });
  try {
    const done = await deps.db.transaction((tx) => notifyInTransaction(tx, data.outboxId, deps));
    if (done.outcome === 'notified') {
      log.info({ kind: done.row?.kind, notices: done.refs.length }, 'event attributed');
    }
    await deps
      .relay(done.refs, data.traceId)
      .catch((err: unknown) => log.warn({ err: describeError(err) }, 'notices not queued yet'));
    return done.outcome;
  } catch (err) {
    const error = describeError(err);
    if (isTransient(err) && !lastAttempt) {
      log.warn({ err: error }, 'attribution failed, will retry');
      throw err;
    }
    await finishOutboxRow(deps.db, data.outboxId, 'failed', error);
    log.error({ err: error }, 'attribution failed for good');
    throw err;
  }
}

export interface NotifyWorkerOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly concurrency: number;
}

/** The BullMQ worker (and its queue handle) for the notify stage. */
export function createNotifyWorker(deps: NotifyDeps, o: NotifyWorkerOptions): RegisteredWorker {
  const queue: Queue<NotifyJobData> = createNotifyQueue(o.connection, o.prefix);
  const worker = new Worker<NotifyJobData, NotifyOutcome>(
    NOTIFY_QUEUE,
    (job: Job<NotifyJobData>) => runNotify(job.data, deps, job.attemptsMade + 1 >= (job.opts.attempts ?? 1)),
    { connection: o.connection, prefix: o.prefix, concurrency: o.concurrency },
  );
  return { name: NOTIFY_QUEUE, queue, worker };
}
