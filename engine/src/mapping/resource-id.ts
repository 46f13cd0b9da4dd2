/**
 * Deterministic resource ids: a hash of the resource type and the values that identify it, so a
 * replayed message or a later update targets the same resource instead of creating a twin.
 */
import { createHash } from 'node:crypto';

/** 32 hex characters of sha256(`type|part|part...`); valid as a FHIR id. */
export function hashResourceId(resourceType: string, parts: readonly string[]): string {
  return createHash('sha256')
    .update(`${resourceType}|${parts.join('|')}`)
    .digest('hex')
    .slice(0, 32);
}
