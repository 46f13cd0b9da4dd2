/**
 * The server's side of a Subscription: the handshake that activates it, the heartbeat that tells
 * an idle subscriber the engine is alive, and the status the server alone sets (`requested` →
 * `active`, or `error` with the reason). A subscriber's endpoint is as untrusted as any other: the
 * same SSRF-checked client carries every handshake and heartbeat.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger';
import { describeError } from '../observability/describe-error';
import type { Db, Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { lockCurrent, writeVersion } from '../store/fhir-version-writer';
import type { AddressPolicy } from './endpoint-address-policy';
import { classifyAnswer } from './delivery-outcome';
import { postJson } from './safe-http-client';
import { buildSubscriptionBundle, type NotificationType } from './subscription-notification';
import { parseSubscription, type ParsedSubscription } from './subscription-topics';

export const ENGINE_SOURCE = 'urn:care:engine:subscriptions';

export interface SubscriptionLifecycleDeps {
  readonly db: Db;
  readonly baseUrl: string;
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** Parses a stored Subscription whatever its status (the parser accepts only what a client may send). */
export function parseStored(resource: JsonObject): ParsedSubscription | undefined {
  const parsed = parseSubscription({ ...resource, status: 'requested' });
  return parsed.ok ? parsed.value : undefined;
}

/** Sets the server-driven status (and error) as a new version, unless it is already so. */
export async function setSubscriptionStatus(
  tx: Queryable,
  id: string,
  status: 'active' | 'error',
  error?: string,
): Promise<void> {
  const cur = await lockCurrent(tx, 'Subscription', id);
  if (cur === undefined || cur.deleted) return;
  const { meta: _meta, error: _error, ...rest } = cur.resource;
  if (cur.resource['status'] === status && cur.resource['error'] === error) return;
  // A subscriber who turned it off (or deleted it) meanwhile keeps it off.
  if (cur.resource['status'] === 'off') return;
  const now = new Date().toISOString();
  await writeVersion(
    tx,
    {
      type: 'Subscription',
      id,
      body: { ...rest, status, ...(error !== undefined ? { error } : {}) },
      deleted: false,
      eventTime: now,
      lastUpdated: now,
      messageId: 'engine:subscriptions',
      source: ENGINE_SOURCE,
    },
    cur,
  );
}

async function eventsSinceStart(db: Queryable, id: string): Promise<number> {
  const [row] = await db.query<{ n: string }>(
    `SELECT events_since_start::text AS n FROM subscription_state WHERE subscription_id = $1`,
    [id],
  );
  return row === undefined ? 0 : Number(row.n);
}

/** POSTs a handshake or heartbeat; resolves true when the subscriber accepted it. */
async function sendControl(
  deps: SubscriptionLifecycleDeps,
  id: string,
  sub: ParsedSubscription,
  type: Extract<NotificationType, 'handshake' | 'heartbeat'>,
  status: 'requested' | 'active',
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const now = new Date().toISOString();
  const bundle = buildSubscriptionBundle({
    subscriptionId: id,
    topic: sub.topic,
    status,
    type,
    eventsSinceStart: await eventsSinceStart(deps.db, id),
    events: [],
    payloadContent: sub.payloadContent,
    baseUrl: deps.baseUrl,
    bundleId: randomUUID(),
    timestamp: now,
  });
  try {
    const answer = await postJson(
      sub.endpoint,
      JSON.stringify(bundle),
      Object.fromEntries(sub.headers.map((h) => [h.name, h.value])),
      {
        policy: deps.policy,
        timeoutMs: deps.timeoutMs,
      },
    );
    const verdict = classifyAnswer(answer);
    return verdict.kind === 'delivered' ? { ok: true } : { ok: false, reason: verdict.reason };
  } catch (err) {
    return { ok: false, reason: describeError(err).message };
  }
}

/**
 * Activates a `requested` Subscription: a handshake to its endpoint, then `active` on a 2xx, or
 * `error` with the reason. Never throws: the outcome is on the resource.
 */
export async function activateSubscription(
  deps: SubscriptionLifecycleDeps,
  id: string,
): Promise<'active' | 'error' | 'skipped'> {
  try {
    const [row] = await deps.db.query<{ resource: JsonObject; deleted: boolean }>(
      `SELECT resource, deleted FROM fhir_resources WHERE resource_type = 'Subscription' AND id = $1`,
      [id],
    );
    if (row === undefined || row.deleted || row.resource['status'] !== 'requested') return 'skipped';
    const sub = parseStored(row.resource);
    if (sub === undefined) return 'skipped';
    const result = await sendControl(deps, id, sub, 'handshake', 'requested');
    await deps.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO subscription_state (subscription_id, last_sent_at, error) VALUES ($1, now(), $2)
         ON CONFLICT (subscription_id) DO UPDATE SET last_sent_at = now(), error = $2`,
        [id, result.ok ? null : result.reason],
      );
      await setSubscriptionStatus(
        tx,
        id,
        result.ok ? 'active' : 'error',
        result.ok ? undefined : `handshake failed: ${result.reason}`,
      );
    });
    deps.logger.info({ subscription: id, ok: result.ok }, 'subscription handshake');
    return result.ok ? 'active' : 'error';
  } catch (err) {
    deps.logger.warn({ subscription: id, err: describeError(err) }, 'subscription handshake not finished');
    return 'error';
  }
}

/**
 * Sends a heartbeat to each active subscription that asked for one and has heard nothing for its
 * period. A subscription is claimed before sending, so two engines do not both beat.
 */
export async function sendDueHeartbeats(deps: SubscriptionLifecycleDeps): Promise<number> {
  const rows = await deps.db.query<{ id: string; resource: JsonObject }>(
    `SELECT id, resource FROM fhir_resources
      WHERE resource_type = 'Subscription' AND NOT deleted AND resource->>'status' = 'active'`,
  );
  let sent = 0;
  for (const r of rows) {
    const sub = parseStored(r.resource);
    if (sub?.heartbeatSeconds === undefined) continue;
    const claimed = await deps.db.query(
      `INSERT INTO subscription_state AS s (subscription_id, last_sent_at) VALUES ($1, now())
       ON CONFLICT (subscription_id) DO UPDATE SET last_sent_at = now()
        WHERE s.last_sent_at IS NULL OR s.last_sent_at < now() - make_interval(secs => $2)
       RETURNING subscription_id`,
      [r.id, sub.heartbeatSeconds],
    );
    if (claimed.length === 0) continue;
    const result = await sendControl(deps, r.id, sub, 'heartbeat', 'active');
    if (!result.ok) deps.logger.warn({ subscription: r.id, reason: result.reason }, 'heartbeat not accepted');
    sent++;
  }
  return sent;
}

/** Notes that the subscriber heard from the engine (an event), so no heartbeat is due yet. */
export async function touchSubscription(db: Queryable, id: string): Promise<void> {
  await db.query(
    `INSERT INTO subscription_state (subscription_id, last_sent_at) VALUES ($1, now())
     ON CONFLICT (subscription_id) DO UPDATE SET last_sent_at = now()`,
    [id],
  );
}
