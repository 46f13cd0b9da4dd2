/**
 * The notification module's rules for what practices register over /fhir: an Endpoint must
 * point where the SSRF policy allows (checked again at every connect), a webhook's signing secret
 * is kept out of the readable resource, a Subscription must name a topic the engine serves and
 * is activated by a handshake, and a Group roster is matched to persons as it is written.
 */
import type { RegistrationHooks, RegistrationIssue } from '../http/registration-hooks';
import type { Logger } from '../observability/logger';
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { checkEndpointUrl, type AddressPolicy } from './endpoint-address-policy';
import { channelOf } from './recipient-directory';
import { parseSubscription } from './subscription-topics';

/** Extension on Endpoint carrying a webhook's signing secret; stored apart, never served back. */
export const WEBHOOK_SECRET_EXTENSION =
  'https://care-coordination.org/fhir/StructureDefinition/webhook-secret';

export interface RegistrationRulesDeps {
  readonly policy: AddressPolicy;
  /** Matches a Group roster's members to persons (notify/roster-match.ts). */
  readonly syncGroup?: (tx: Queryable, groupId: string, group: JsonObject | undefined) => Promise<void>;
  /** Starts a Subscription's handshake after its `requested` version committed. */
  readonly activate: (subscriptionId: string) => void;
  readonly logger: Logger;
}

function takeSecret(body: JsonObject): { body: JsonObject; secret?: string; many: boolean } {
  const extensions = Array.isArray(body['extension']) ? (body['extension'] as JsonObject[]) : [];
  const secrets = extensions.filter((e) => e['url'] === WEBHOOK_SECRET_EXTENSION);
  if (secrets.length === 0) return { body, many: false };
  const rest = extensions.filter((e) => e['url'] !== WEBHOOK_SECRET_EXTENSION);
  const { extension: _e, ...withoutExtensions } = body;
  const secret = secrets[0]?.['valueString'];
  return {
    body: rest.length > 0 ? { ...withoutExtensions, extension: rest } : withoutExtensions,
    ...(typeof secret === 'string' ? { secret } : {}),
    many: secrets.length > 1,
  };
}

async function endpointRules(
  tx: Queryable,
  id: string,
  body: JsonObject | undefined,
  policy: AddressPolicy,
): Promise<{ body?: JsonObject; issues?: RegistrationIssue[] }> {
  if (body === undefined) {
    await tx.query(`DELETE FROM endpoint_secrets WHERE endpoint_id = $1`, [id]);
    return {};
  }
  const issues: RegistrationIssue[] = [];
  const address = body['address'];
  if (typeof address === 'string') {
    const check = await checkEndpointUrl(address, policy);
    if (!check.ok) issues.push({ expression: 'Endpoint.address', message: check.reason, code: 'security' });
  }
  const taken = takeSecret(body);
  if (channelOf(body) === 'webhook') {
    if (taken.many) issues.push({ expression: 'Endpoint.extension', message: 'give one webhook secret' });
    if (taken.secret !== undefined && taken.secret.length < 32) {
      issues.push({
        expression: 'Endpoint.extension',
        message: 'a webhook secret needs at least 32 characters',
      });
    }
    if (taken.secret === undefined) {
      const [stored] = await tx.query(`SELECT 1 FROM endpoint_secrets WHERE endpoint_id = $1`, [id]);
      if (stored === undefined) {
        issues.push({
          expression: 'Endpoint.extension',
          message: `a webhook Endpoint needs its signing secret in the extension ${WEBHOOK_SECRET_EXTENSION}`,
        });
      }
    }
  }
  if (issues.length > 0) return { issues };
  if (taken.secret !== undefined) {
    await tx.query(
      `INSERT INTO endpoint_secrets (endpoint_id, secret) VALUES ($1, $2)
       ON CONFLICT (endpoint_id) DO UPDATE SET secret = $2`,
      [id, taken.secret],
    );
  }
  return { body: taken.body };
}

async function subscriptionRules(
  body: JsonObject | undefined,
  previous: JsonObject | undefined,
  policy: AddressPolicy,
): Promise<{ body?: JsonObject; issues?: RegistrationIssue[] }> {
  if (body === undefined) return {};
  const wantsOff = body['status'] === 'off';
  const parsed = parseSubscription(wantsOff ? { ...body, status: 'requested' } : body);
  if (!parsed.ok) return { issues: parsed.issues };
  const check = await checkEndpointUrl(parsed.value.endpoint, policy);
  if (!check.ok) {
    return {
      issues: [{ expression: 'Subscription.channel.endpoint', message: check.reason, code: 'security' }],
    };
  }
  // The server drives the status: a new or changed subscription is `requested` until its
  // handshake succeeds; an unchanged one keeps the status the server gave it.
  const { error: _error, ...rest } = body;
  if (wantsOff) return { body: rest };
  const unchanged =
    previous !== undefined &&
    JSON.stringify(previous['channel']) === JSON.stringify(body['channel']) &&
    previous['criteria'] === body['criteria'] &&
    JSON.stringify(previous['_criteria']) === JSON.stringify(body['_criteria']) &&
    previous['status'] === 'active';
  return { body: { ...rest, status: unchanged ? 'active' : 'requested' } };
}

export function createRegistrationRules(deps: RegistrationRulesDeps): RegistrationHooks {
  return {
    async beforeWrite(tx, w) {
      switch (w.type) {
        case 'Endpoint':
          return endpointRules(tx, w.id, w.body, deps.policy);
        case 'Subscription':
          return subscriptionRules(w.body, w.previous, deps.policy);
        case 'Group':
          if (deps.syncGroup !== undefined) await deps.syncGroup(tx, w.id, w.body);
          return {};
        default:
          return {};
      }
    },
    afterCommit(w) {
      if (w.type === 'Subscription' && w.body?.['status'] === 'requested') deps.activate(w.id);
    },
  };
}
