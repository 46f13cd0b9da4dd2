/**
 * The active topic-based Subscriptions an event matches, and the event numbers it takes in each
 * (the backport's `events-since-subscription-start`). Numbers are taken in the transaction that
 * writes the notices, so a rolled-back event leaves no gap.
 */
import type { EventKind } from './derive-events';
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { parseSubscription, subscriptionMatches, type ParsedSubscription } from './subscription-topics';

export interface EventFacts {
  readonly kind: EventKind;
  readonly patients: readonly string[];
  readonly practitioners: readonly string[];
  readonly organizations: readonly string[];
}

export interface ActiveSubscription {
  readonly id: string;
  readonly parsed: ParsedSubscription;
}

/** Every Subscription whose status is `active` and which parses (one that does not is never active). */
export async function activeSubscriptions(tx: Queryable): Promise<ActiveSubscription[]> {
  const rows = await tx.query<{ id: string; resource: JsonObject }>(
    `SELECT id, resource FROM fhir_resources
      WHERE resource_type = 'Subscription' AND NOT deleted AND resource->>'status' = 'active'`,
    [],
    { prepared: true },
  );
  const out: ActiveSubscription[] = [];
  for (const r of rows) {
    const parsed = parseSubscription(r.resource);
    if (!parsed.ok) continue;
    const end = parsed.value.end;
    if (end !== undefined && Date.parse(end) < Date.now()) continue;
    out.push({ id: r.id, parsed: parsed.value });
  }
  return out;
}

export async function matchingSubscriptions(tx: Queryable, facts: EventFacts): Promise<ActiveSubscription[]> {
  return (await activeSubscriptions(tx)).filter((s) => subscriptionMatches(s.parsed, facts));
}

/** Takes the next event number of each subscription, in id order (no deadlock between events). */
export async function takeEventNumbers(tx: Queryable, ids: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const id of [...ids].sort()) {
    const [row] = await tx.query<{ n: string }>(
      `INSERT INTO subscription_state (subscription_id, events_since_start) VALUES ($1, 1)
       ON CONFLICT (subscription_id) DO UPDATE SET events_since_start = subscription_state.events_since_start + 1
       RETURNING events_since_start::text AS n`,
      [id],
    );
    if (row !== undefined) out.set(id, Number(row.n));
  }
  return out;
}
