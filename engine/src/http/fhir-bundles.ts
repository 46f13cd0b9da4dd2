/**
 * Builds the searchset and history Bundles the /fhir API returns, with absolute fullUrls and
 * paging links that repeat the caller's own parameters, so a client just follows `next`.
 */
import type { SearchResult } from '../store/fhir-search';
import type { SearchQuery } from '../store/fhir-search-query';
import type { BundleLink, ResponseBundle, ResponseEntry, StoredResource } from '../store/fhir-types';

/** `${baseUrl}/fhir/Type/id`. */
export function fullUrlOf(baseUrl: string, type: string, id: string): string {
  return `${baseUrl}/fhir/${type}/${id}`;
}

/** The weak ETag FHIR uses for a version. */
export function etagOf(versionId: string): string {
  return `W/"${versionId}"`;
}

function pageUrl(baseUrl: string, query: SearchQuery, offset: number): string {
  const params = new URLSearchParams(query.canonical.map(([k, v]): [string, string] => [k, v]));
  params.set('_count', String(query.count));
  params.set('_offset', String(offset));
  return `${baseUrl}/fhir/${query.type}?${params.toString()}`;
}

function pagingLinks(baseUrl: string, query: SearchQuery, total: number): BundleLink[] {
  const { count, offset } = query;
  const links: BundleLink[] = [{ relation: 'self', url: pageUrl(baseUrl, query, offset) }];
  if (count === 0) return links;
  const last = total === 0 ? 0 : Math.floor((total - 1) / count) * count;
  links.push({ relation: 'first', url: pageUrl(baseUrl, query, 0) });
  if (offset > 0) {
    links.push({ relation: 'previous', url: pageUrl(baseUrl, query, Math.max(0, offset - count)) });
  }
  if (offset + count < total) links.push({ relation: 'next', url: pageUrl(baseUrl, query, offset + count) });
  links.push({ relation: 'last', url: pageUrl(baseUrl, query, last) });
  return links;
}

/** A searchset Bundle: matches first (`search.mode: match`), then includes (`include`). */
export function toSearchBundle(baseUrl: string, query: SearchQuery, result: SearchResult): ResponseBundle {
  const entry = (r: StoredResource, mode: 'match' | 'include'): ResponseEntry => ({
    fullUrl: fullUrlOf(baseUrl, r.resourceType, r.id),
    resource: r.resource,
    search: { mode },
  });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: result.total,
    link: pagingLinks(baseUrl, query, result.total),
    entry: [
      ...result.matches.map((r) => entry(r, 'match')),
      ...result.included.map((r) => entry(r, 'include')),
    ],
  };
}

/** A history Bundle, newest version first; deleted versions carry no resource. */
export function toHistoryBundle(
  baseUrl: string,
  versions: readonly StoredResource[],
  selfUrl: string,
): ResponseBundle {
  return {
    resourceType: 'Bundle',
    type: 'history',
    total: versions.length,
    link: [{ relation: 'self', url: selfUrl }],
    entry: versions.map((v) => ({
      fullUrl: fullUrlOf(baseUrl, v.resourceType, v.id),
      ...(v.deleted ? {} : { resource: v.resource }),
      request: { method: v.deleted ? 'DELETE' : 'PUT', url: `${v.resourceType}/${v.id}` },
      response: {
        status: v.deleted ? '204' : v.versionId === '1' ? '201' : '200',
        lastModified: v.lastUpdated,
        etag: etagOf(v.versionId),
      },
    })),
  };
}
