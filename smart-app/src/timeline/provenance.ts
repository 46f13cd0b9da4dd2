/**
 * Provenance of a timeline item from the engine's own metadata: `meta.source` names the archived
 * HL7 message (so an analyst can find and replay it) and `meta.lastUpdated` says when it arrived.
 */
import type { Meta } from '../fhir/fhir-resources';
import type { Provenance } from './timeline-types';

const MESSAGE_SOURCE_PREFIX = 'urn:care:message:';

/** The archived message id in `urn:care:message:<id>`, else undefined (API writes, other sources). */
export function messageIdOf(source: string | undefined): string | undefined {
  if (source?.startsWith(MESSAGE_SOURCE_PREFIX) !== true) return undefined;
  const id = source.slice(MESSAGE_SOURCE_PREFIX.length);
  return id === '' ? undefined : id;
}

/**
 * Provenance for a resource.
 * @param resource - `Type/id` of the resource.
 * @param meta - its `meta`.
 * @param facilityKey - the facility it is attributed to.
 */
export function provenanceOf(resource: string, meta: Meta | undefined, facilityKey: string): Provenance {
  const messageId = messageIdOf(meta?.source);
  return {
    resource,
    facilityKey,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(meta?.lastUpdated !== undefined ? { receivedAt: meta.lastUpdated } : {}),
  };
}
