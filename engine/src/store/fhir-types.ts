/**
 * The few FHIR R4 shapes the store and the /fhir API need. The store treats resource bodies as
 * JSON it indexes, not as typed models, so these stay minimal on purpose.
 */

/** A resource body as stored: any JSON object with a type and (once stored) an id. */
export interface FhirResource {
  readonly resourceType: string;
  readonly id?: string;
  readonly meta?: FhirMeta;
  readonly [key: string]: unknown;
}

/** `Resource.meta` as the store sets it. */
export interface FhirMeta {
  readonly versionId?: string;
  readonly lastUpdated?: string;
  /** `urn:care:message:<messageId>`: the archived message this version came from. */
  readonly source?: string;
  readonly [key: string]: unknown;
}

/**
 * One entry of a transaction Bundle as the mapper emits it. Fields are loose (`| undefined`)
 * so the mapper's own types assign to it without casts.
 */
export interface TransactionEntry {
  readonly fullUrl?: string | undefined;
  readonly resource?: { readonly resourceType: string; readonly id?: string | undefined } | undefined;
  readonly request?:
    { readonly method: string; readonly url: string; readonly extension?: unknown } | undefined;
}

/** The transaction Bundle the mapper produces for one message. */
export interface TransactionBundle {
  readonly resourceType: 'Bundle';
  readonly type: string;
  readonly entry?: readonly TransactionEntry[] | undefined;
}

/** A resource version as it comes out of the store, with its meta already set. */
export interface StoredResource {
  readonly resourceType: string;
  readonly id: string;
  readonly versionId: string;
  readonly lastUpdated: string;
  readonly deleted: boolean;
  /** The body; for a deleted version, the last body before deletion. */
  readonly resource: FhirResource;
}

/** `Bundle.link`. */
export interface BundleLink {
  readonly relation: string;
  readonly url: string;
}

/** `Bundle.entry` for search and history responses. */
export interface ResponseEntry {
  readonly fullUrl: string;
  readonly resource?: FhirResource;
  readonly search?: { readonly mode: 'match' | 'include' };
  readonly request?: { readonly method: string; readonly url: string };
  readonly response?: { readonly status: string; readonly lastModified: string; readonly etag: string };
}

/** A searchset or history Bundle. */
export interface ResponseBundle {
  readonly resourceType: 'Bundle';
  readonly type: 'searchset' | 'history';
  readonly total?: number;
  readonly link: readonly BundleLink[];
  readonly entry: readonly ResponseEntry[];
}
