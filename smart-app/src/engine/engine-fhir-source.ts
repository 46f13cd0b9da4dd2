/**
 * The timeline source backed by the engine's FHIR API. Each request carries a current engine
 * token; a 401 means the token was revoked or the engine restarted with a new key, so the grant is
 * exchanged once more before the session is declared over. Search pages are followed only within
 * the engine's own FHIR base, so the token never goes to another origin. `$everything` is
 * completed with the Organizations, Practitioners and Locations it names but does not carry.
 */
import type { Bundle, BundleEntry } from '../fhir/fhir-resources';
import { outcomeText } from '../fhir/operation-outcome';
import { missingReferences } from './missing-references';
import { SessionExpiredError } from '../smart/session-errors';
import type { EngineSession } from './engine-session';
import type { TimelineSource } from './timeline-source';

/** The engine answered an error (with the OperationOutcome's words when it sent one). */
export class EngineRequestError extends Error {
  override readonly name = 'EngineRequestError';
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface EngineFhirSourceOptions {
  /** `<engine>/fhir/`, ending with `/`. */
  readonly fhirBase: string;
  readonly session: EngineSession;
  /** @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Pages followed at most; beyond it the answer is incomplete and said to be. */
const MAX_PAGES = 50;
/** Patient records one inbox search names at most (a person rarely has more than a handful). */
const MAX_INBOX_PATIENTS = 100;
/** Ids per `_id` search, well under the engine's 1000 values per parameter. */
const IDS_PER_SEARCH = 100;
/** Rounds of completion: a bed's ward, floor, building and site arrive one `partOf` level a round. */
const MAX_COMPLETION_ROUNDS = 8;

async function failureText(res: Response): Promise<string> {
  try {
    return outcomeText(await res.json()) ?? `HTTP ${res.status}`;
  } catch {
    // Not an OperationOutcome (a proxy's page): the status is what there is.
    return `HTTP ${res.status}`;
  }
}

/**
 * A `next` link on the engine's own FHIR base. The engine writes links with its PUBLIC_URL, which
 * may name the host differently from the page (127.0.0.1 and localhost); the path is what counts.
 * A link elsewhere is refused rather than followed with the token or silently dropped.
 */
function onOwnBase(link: string, fhirBase: string): string {
  const base = new URL(fhirBase);
  const url = new URL(link, base);
  if (!url.pathname.startsWith(base.pathname)) {
    throw new EngineRequestError(`the engine's next page is outside its FHIR base (${url.pathname})`, 0);
  }
  return new URL(`${url.pathname}${url.search}`, base.origin).href;
}

export function createEngineFhirSource(options: EngineFhirSourceOptions): TimelineSource {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);

  const getJson = async (url: string, signal: AbortSignal | undefined): Promise<unknown> => {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const grant = await options.session.grant();
      const res = await fetchImpl(url, {
        headers: { accept: 'application/fhir+json', authorization: `Bearer ${grant.accessToken}` },
        ...(signal !== undefined ? { signal } : {}),
      });
      if (res.status === 401) {
        options.session.invalidate();
        continue;
      }
      if (!res.ok) throw new EngineRequestError(await failureText(res), res.status);
      return res.json() as Promise<unknown>;
    }
    throw new SessionExpiredError('The engine no longer accepts this session.');
  };

  const getBundle = async (url: string, signal: AbortSignal | undefined): Promise<Bundle> => {
    const entries: BundleEntry[] = [];
    let first: Bundle | undefined;
    let next: string | undefined = url;
    for (let page = 0; next !== undefined; page += 1) {
      if (page === MAX_PAGES) throw new EngineRequestError(`more than ${MAX_PAGES} pages of results`, 0);
      const bundle = (await getJson(next, signal)) as Bundle;
      if (bundle.resourceType !== 'Bundle') {
        throw new EngineRequestError('the engine did not answer a Bundle', 0);
      }
      first ??= bundle;
      entries.push(...(bundle.entry ?? []));
      const link = bundle.link?.find((l) => l.relation === 'next')?.url;
      next = link === undefined ? undefined : onOwnBase(link, options.fhirBase);
    }
    return { ...(first ?? { resourceType: 'Bundle' }), entry: entries };
  };

  /**
   * Adds the reference data `bundle` names but lacks. A type the token may not read (403) is
   * left out: the timeline then shows "Unknown facility" or the reference's display, which beats
   * no timeline at all. Any other failure fails the read.
   */
  const complete = async (bundle: Bundle, signal: AbortSignal | undefined): Promise<Bundle> => {
    let entries = [...(bundle.entry ?? [])];
    const refused = new Set<string>();
    // An id the engine does not hold stays missing; it is asked for once, not every round.
    const asked = new Set<string>();
    for (let round = 0; round < MAX_COMPLETION_ROUNDS; round += 1) {
      const missing = [...missingReferences({ ...bundle, entry: entries })]
        .filter(([type]) => !refused.has(type))
        .map(([type, all]) => [type, all.filter((id) => !asked.has(`${type}/${id}`))] as const)
        .filter(([, ids]) => ids.length > 0);
      if (missing.length === 0) break;
      const added: BundleEntry[] = [];
      for (const [type, ids] of missing) {
        for (const id of ids) asked.add(`${type}/${id}`);
        for (let i = 0; i < ids.length; i += IDS_PER_SEARCH) {
          const chunk = ids.slice(i, i + IDS_PER_SEARCH).map(encodeURIComponent);
          try {
            const found = await getBundle(`${options.fhirBase}${type}?_id=${chunk.join(',')}`, signal);
            added.push(...(found.entry ?? []));
          } catch (err) {
            if (!(err instanceof EngineRequestError && err.status === 403)) throw err;
            refused.add(type);
          }
        }
      }
      if (added.length === 0) break;
      entries = [...entries, ...added];
    }
    return { ...bundle, entry: entries };
  };

  return {
    async everything(patientId, signal) {
      const bundle = await getBundle(
        `${options.fhirBase}Patient/${encodeURIComponent(patientId)}/$everything`,
        signal,
      );
      return complete(bundle, signal);
    },
    inbox(patientIds, signal) {
      const refs = [...new Set(patientIds)]
        .slice(0, MAX_INBOX_PATIENTS)
        .map((id) => encodeURIComponent(`Patient/${id}`));
      // Comma-separated values of one parameter are OR in FHIR search.
      return getBundle(`${options.fhirBase}Communication?patient=${refs.join(',')}`, signal);
    },
  };
}
