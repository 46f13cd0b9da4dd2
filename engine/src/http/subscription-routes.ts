/**
 * The backport's operations on a Subscription: `$status` (what the server thinks of it: status,
 * events so far, the last error) and `$events` (the notifications it was sent, by event number,
 * so a subscriber that missed some can catch up). Reading them needs Subscription read.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Router } from 'express';
import { readResource } from '../store/fhir-read';
import type { StoredResource } from '../store/fhir-types';
import { parseStored } from '../notify/subscription-lifecycle';
import {
  buildStatusSearchset,
  buildSubscriptionBundle,
  buildSubscriptionStatus,
  type NotificationEvent,
  type SubscriptionStatusCode,
} from '../notify/subscription-notification';
import { admitRequest, auditAccess, type FhirHandlerContext } from './fhir-request-guard';
import { outcome, sendOutcome } from './operation-outcome';

const FHIR_JSON = 'application/fhir+json';
const MAX_EVENTS = 1000;

function statusOf(r: StoredResource): SubscriptionStatusCode {
  const s = r.resource['status'];
  return s === 'requested' || s === 'active' || s === 'error' || s === 'off' ? s : 'error';
}

function numberParam(req: Request, name: string): number | undefined | 'bad' {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) return 'bad';
  return Number(v);
}

async function readSubscription(
  h: FhirHandlerContext,
  id: string,
): Promise<{ r: StoredResource; events: number; error: string | null } | undefined> {
  const r = await readResource(h.db, 'Subscription', id);
  if (r === undefined || r.deleted) return undefined;
  const [state] = await h.db.query<{ n: string; error: string | null }>(
    `SELECT events_since_start::text AS n, error FROM subscription_state WHERE subscription_id = $1`,
    [id],
  );
  return { r, events: state === undefined ? 0 : Number(state.n), error: state?.error ?? null };
}

function statusHandler(h: FhirHandlerContext): RequestHandler<{ id: string }> {
  return async (req, res) => {
    const event = {
      action: 'read',
      outcome: 'success',
      resourceType: 'Subscription',
      resourceId: req.params.id,
    } as const;
    const admitted = await admitRequest(h, res, 'r', event);
    if (admitted === undefined) return;
    const found = await readSubscription(h, req.params.id);
    if (found === undefined) {
      sendOutcome(res, outcome('not-found', `Subscription/${req.params.id} not found`));
      return;
    }
    const sub = parseStored(found.r.resource);
    const error =
      typeof found.r.resource['error'] === 'string' ? found.r.resource['error'] : (found.error ?? undefined);
    const status = buildSubscriptionStatus({
      subscriptionId: req.params.id,
      topic: sub?.topic ?? String(found.r.resource['criteria']),
      status: statusOf(found.r),
      eventsSinceStart: found.events,
      baseUrl: h.baseUrl,
      statusId: randomUUID(),
      ...(error !== undefined ? { error } : {}),
    });
    await auditAccess(h, admitted.ctx, event, [found.r]);
    res
      .type(FHIR_JSON)
      .json(buildStatusSearchset([status], { bundleId: randomUUID(), timestamp: new Date().toISOString() }));
  };
}

function eventsHandler(h: FhirHandlerContext): RequestHandler<{ id: string }> {
  return async (req, res) => {
    const event = {
      action: 'read',
      outcome: 'success',
      resourceType: 'Subscription',
      resourceId: req.params.id,
    } as const;
    const admitted = await admitRequest(h, res, 'r', event);
    if (admitted === undefined) return;
    const since = numberParam(req, 'eventsSinceNumber');
    const until = numberParam(req, 'eventsUntilNumber');
    if (since === 'bad' || until === 'bad') {
      sendOutcome(res, outcome('invalid', 'eventsSinceNumber and eventsUntilNumber are whole numbers'));
      return;
    }
    const content = req.query['content'];
    if (content !== undefined && content !== 'empty' && content !== 'id-only') {
      sendOutcome(
        res,
        outcome('not-supported', 'content is empty or id-only (full-resource is sent only with events)'),
      );
      return;
    }
    const found = await readSubscription(h, req.params.id);
    const sub = found === undefined ? undefined : parseStored(found.r.resource);
    if (found === undefined || sub === undefined) {
      sendOutcome(res, outcome('not-found', `Subscription/${req.params.id} not found`));
      return;
    }
    const from = since ?? Math.max(1, found.events - 99);
    const to = until ?? found.events;
    const rows = await h.db.query<{
      event_number: string;
      created_at: Date;
      payload: Record<string, unknown>;
      patient_ref: string | null;
    }>(
      `SELECT n.event_number::text AS event_number, n.created_at, o.payload, n.patient_ref
         FROM notifications n JOIN outbox o ON o.id = n.outbox_id
        WHERE n.channel = 'subscription' AND n.target = $1 AND n.event_number BETWEEN $2 AND $3
        ORDER BY n.event_number LIMIT $4`,
      [`Subscription/${req.params.id}`, from, to, MAX_EVENTS],
    );
    const events: NotificationEvent[] = rows.map((r) => {
      const focus = (typeof r.payload['focus'] === 'string' ? r.payload['focus'] : '').replace(
        /\/_history\/[^/]+$/,
        '',
      );
      return {
        eventNumber: Number(r.event_number),
        timestamp: r.created_at.toISOString(),
        focus,
        ...(r.patient_ref !== null && r.patient_ref !== focus ? { additionalContext: [r.patient_ref] } : {}),
      };
    });
    await auditAccess(h, admitted.ctx, event, [found.r]);
    res.type(FHIR_JSON).json(
      buildSubscriptionBundle({
        subscriptionId: req.params.id,
        topic: sub.topic,
        status: statusOf(found.r),
        type: 'query-event',
        eventsSinceStart: found.events,
        events,
        payloadContent: content === 'empty' ? 'empty' : 'id-only',
        baseUrl: h.baseUrl,
        bundleId: randomUUID(),
        timestamp: new Date().toISOString(),
      }),
    );
  };
}

/** Registers `$status` and `$events`; before the generic `/:type/:id` routes. */
export function registerSubscriptionRoutes(router: Router, h: FhirHandlerContext): void {
  const status = statusHandler(h);
  const events = eventsHandler(h);
  const dispatch: RequestHandler<{ id: string; op: string }> = async (req, res, next) => {
    if (req.params.op === '$status' && req.method === 'GET') await status(req, res, next);
    else if (req.params.op === '$events') await events(req, res, next);
    else next();
  };
  router.get('/Subscription/:id/:op', dispatch);
  router.post('/Subscription/:id/:op', dispatch);
}
