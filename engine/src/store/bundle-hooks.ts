/**
 * What the store tells, and lets others change, while it writes a bundle. The store knows FHIR
 * versions and event time, nothing of merges or identity: those modules plug in here, so their
 * rules live in their own files and the store stays one concept.
 */
import type { Queryable } from './db';
import type { JsonObject } from './fhir-json';
import type { CurrentVersion } from './fhir-version-writer';

/** One version of a resource as the store holds it. */
export interface StoredVersion {
  readonly versionId: string;
  readonly resource: JsonObject;
  readonly deleted: boolean;
}

/** What became of one resource: `previous` is what was current before, `current` what is now. */
export interface ResourceChange {
  readonly type: string;
  readonly id: string;
  readonly outcome: 'created' | 'updated' | 'deleted' | 'unchanged' | 'out-of-order' | 'not-found';
  readonly previous?: StoredVersion;
  readonly current?: StoredVersion;
  /** Set when a hook, not the bundle, caused the version (a merge re-pointing a record). */
  readonly cause?: string;
}

export interface BundleHooks {
  /** Rewrites an entry's body before it is compared and stored. */
  readonly prepare?: (tx: Queryable, body: JsonObject) => Promise<JsonObject>;
  /**
   * The body to store although the stored version comes from a later event (a fact that must
   * hold whatever its arrival order); undefined leaves the entry skipped as out of order.
   */
  readonly lateWrite?: (current: CurrentVersion, received: JsonObject) => JsonObject | undefined;
  /** Runs after each entry; returns the further versions it wrote (the store re-reads those). */
  readonly afterEntry?: (
    tx: Queryable,
    change: ResourceChange,
    received: JsonObject | undefined,
    source: { readonly messageId: string; readonly lastUpdated: string },
  ) => Promise<ResourceChange[]>;
}
