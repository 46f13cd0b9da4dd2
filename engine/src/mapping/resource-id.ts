/**
 * Deterministic resource ids: a hash of the resource type and the values that identify it, so a
 * replayed message or a later update targets the same resource instead of creating a twin.
 */
import { hash } from 'node:crypto';

/** 32 hex characters of sha256(`type|part|part...`); valid as a FHIR id. */
export function hashResourceId(resourceType: string, parts: readonly string[]): string {
  // The one-shot hash: a message computes a dozen ids, and a Hash object each costs more than the digest.
  return hash('sha256', `${resourceType}|${parts.join('|')}`, 'hex').slice(0, 32);
}
