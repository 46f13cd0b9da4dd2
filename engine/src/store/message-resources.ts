/**
 * The FHIR a message produced, for the analyst: the versions it wrote (history rows carry the
 * message id) and, for resources it mapped to the content already stored, their current version.
 * The archive row keeps only references, so a message's bundle is not stored twice.
 */
import type { Queryable } from './db';
import { readReferences, toStoredResource } from './fhir-read';
import type { FhirResource, StoredResource } from './fhir-types';

/** What the store did with a message's bundle, as kept on the archive row. */
export interface StoredSummary {
  readonly written: readonly { readonly type: string; readonly id: string; readonly versionId: string }[];
  readonly skipped: readonly { readonly type: string; readonly id: string; readonly reason: string }[];
  readonly repointed: readonly { readonly type: string; readonly id: string; readonly versionId: string }[];
}

/** Resources the message wrote, then the unchanged ones it mapped to, by type and id. */
export async function readMessageResources(
  db: Queryable,
  messageId: string,
  stored: StoredSummary,
): Promise<StoredResource[]> {
  const written = await db.query<{
    resource_type: string;
    id: string;
    version_id: number;
    last_updated: Date | string;
    deleted: boolean;
    resource: FhirResource;
  }>(
    `SELECT resource_type, id, version_id, last_updated, deleted, resource FROM fhir_resource_history
      WHERE message_id = $1 ORDER BY resource_type, id, version_id`,
    [messageId],
  );
  const unchanged = stored.skipped.filter((s) => s.reason === 'unchanged').map((s) => `${s.type}/${s.id}`);
  const current = await readReferences(db, unchanged);
  return [...written.map(toStoredResource), ...current];
}
