/**
 * How each kind of notice is put on the wire: a Da Vinci message Bundle to the Endpoint's
 * `$process-message`, a signed JSON webhook, or a backport notification Bundle to a
 * Subscription's rest-hook. Payloads are built at send time from the version the event saw and
 * the notice's stable id, so every attempt sends the same notice.
 */
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import type { NoticeRow } from '../store/notification-store';
import { buildNotificationBundle } from './davinci-bundle';
import type { EventKind } from './derive-events';
import type { AddressPolicy } from './endpoint-address-policy';
import { readNoticeResources, unversioned } from './notice-resources';
import { DeliveryError, DeliveryErrorCode } from './notify-error';
import { postJson, type HttpAnswer } from './safe-http-client';
import { buildSubscriptionBundle } from './subscription-notification';
import { parseSubscription, type SubscriptionHeader } from './subscription-topics';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from './webhook-signature';

export interface SenderDeps {
  readonly db: Queryable;
  readonly baseUrl: string;
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
}

/** Sends one notice; resolves with the receiver's answer or throws a DeliveryError. */
export type NoticeSender = (notice: NoticeRow) => Promise<HttpAnswer>;

function rejected(message: string): DeliveryError {
  return new DeliveryError(DeliveryErrorCode.EndpointRejected, message);
}

async function current(db: Queryable, type: string, id: string): Promise<JsonObject | undefined> {
  const [row] = await db.query<{ resource: JsonObject; deleted: boolean }>(
    `SELECT resource, deleted FROM fhir_resources WHERE resource_type = $1 AND id = $2`,
    [type, id],
    { prepared: true },
  );
  return row === undefined || row.deleted ? undefined : row.resource;
}

async function activeEndpoint(
  db: Queryable,
  target: string,
): Promise<{ id: string; address: string; body: JsonObject }> {
  const id = target.slice('Endpoint/'.length);
  const endpoint = await current(db, 'Endpoint', id);
  if (endpoint === undefined) throw rejected(`${target} no longer exists`);
  if (endpoint['status'] !== 'active') {
    throw rejected(`${target} is ${String(endpoint['status'])}, not active`);
  }
  const address = endpoint['address'];
  if (typeof address !== 'string') throw rejected(`${target} has no address`);
  return { id, address, body: endpoint };
}

function focusOf(n: NoticeRow): string {
  const focus = n.payload['focus'];
  if (typeof focus !== 'string') throw rejected(`event ${n.eventKey} names no focus`);
  return focus;
}

function isCorrection(n: NoticeRow): boolean {
  return n.payload['correction'] === true;
}

/** The senders of every HTTP channel. */
export function createNoticeSenders(
  deps: SenderDeps,
): Record<'davinci' | 'webhook' | 'subscription', NoticeSender> {
  const post = (url: string, body: string, headers: Record<string, string>): Promise<HttpAnswer> =>
    postJson(url, body, headers, { policy: deps.policy, timeoutMs: deps.timeoutMs });
  const patientOf = (n: NoticeRow): string | undefined => n.patientRef ?? undefined;

  return {
    async davinci(n) {
      const endpoint = await activeEndpoint(deps.db, n.target);
      const resources = await readNoticeResources(deps.db, focusOf(n), patientOf(n));
      if (resources === undefined) throw rejected(`the event's resource ${focusOf(n)} is gone`);
      const receiver = n.reasons.length > 0 ? await receiverOf(deps.db, endpoint.id) : undefined;
      const bundle = buildNotificationBundle({
        noticeId: n.noticeId,
        kind: n.kind as EventKind,
        correction: isCorrection(n),
        timestamp: n.createdAt.toISOString(),
        baseUrl: deps.baseUrl,
        destination: { endpoint: endpoint.address, ...(receiver !== undefined ? { receiver } : {}) },
        focus: resources.focus,
        resources: resources.resources,
      });
      return post(`${endpoint.address.replace(/\/+$/, '')}/$process-message`, JSON.stringify(bundle), {
        'Content-Type': 'application/fhir+json',
      });
    },

    async webhook(n) {
      const endpoint = await activeEndpoint(deps.db, n.target);
      const [secret] = await deps.db.query<{ secret: string }>(
        `SELECT secret FROM endpoint_secrets WHERE endpoint_id = $1`,
        [endpoint.id],
      );
      if (secret === undefined) throw rejected(`${n.target} has no webhook secret registered`);
      const body = JSON.stringify({
        id: n.noticeId,
        type: n.kind,
        correction: isCorrection(n),
        occurredAt: n.createdAt.toISOString(),
        patient: n.patientRef,
        focus: `${deps.baseUrl}/fhir/${unversioned(focusOf(n))}`,
        version: focusOf(n),
        reasons: n.reasons,
      });
      return post(endpoint.address, body, {
        'Content-Type': 'application/json',
        [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret.secret, body, Math.floor(Date.now() / 1000)),
        'X-Care-Notice-Id': n.noticeId,
      });
    },

    async subscription(n) {
      const id = n.target.slice('Subscription/'.length);
      const resource = await current(deps.db, 'Subscription', id);
      if (resource === undefined) throw rejected(`${n.target} no longer exists`);
      if (resource['status'] !== 'active') {
        throw rejected(`${n.target} is ${String(resource['status'])}, not active`);
      }
      const parsed = parseSubscription(resource);
      if (!parsed.ok) throw rejected(`${n.target} is no longer valid`);
      const sub = parsed.value;
      const focus = unversioned(focusOf(n));
      const resources =
        sub.payloadContent === 'full-resource'
          ? await readNoticeResources(deps.db, focusOf(n), patientOf(n))
          : undefined;
      const number = n.eventNumber ?? 0;
      const bundle = buildSubscriptionBundle({
        subscriptionId: id,
        topic: sub.topic,
        status: 'active',
        type: 'event-notification',
        eventsSinceStart: number,
        events: [
          {
            eventNumber: number,
            timestamp: n.createdAt.toISOString(),
            focus,
            ...(n.patientRef !== null && n.patientRef !== focus ? { additionalContext: [n.patientRef] } : {}),
            ...(resources !== undefined ? { resources: [resources.focus, ...resources.resources] } : {}),
          },
        ],
        payloadContent: sub.payloadContent,
        baseUrl: deps.baseUrl,
        bundleId: n.noticeId,
        timestamp: n.createdAt.toISOString(),
      });
      return post(sub.endpoint, JSON.stringify(bundle), {
        'Content-Type': 'application/fhir+json',
        ...headerMap(sub.headers),
      });
    },
  };
}

/** The Organization that lists the endpoint, named as the message's receiver. */
async function receiverOf(db: Queryable, endpointId: string): Promise<string | undefined> {
  const [row] = await db.query<{ id: string }>(
    `SELECT id FROM fhir_search_index
      WHERE resource_type = 'Organization' AND param = 'endpoint' AND reference = $1 LIMIT 1`,
    [`Endpoint/${endpointId}`],
    { prepared: true },
  );
  return row === undefined ? undefined : `Organization/${row.id}`;
}

function headerMap(headers: readonly SubscriptionHeader[]): Record<string, string> {
  return Object.fromEntries(headers.map((h) => [h.name, h.value]));
}
