/**
 * What travels with a notice: the version of the focus the event saw, and the resources it
 * references (two steps out: the Encounter's Location and Practitioner, the Patient's managing
 * Organization, the discharge Condition). Another patient never travels: a reference to any
 * Patient but the event's own, and anything about another patient, is left behind.
 */
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';

const SHAREABLE = new Set(['Location', 'Practitioner', 'PractitionerRole', 'Organization']);
const ABOUT_PATIENT = new Set(['Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'Procedure']);
const MAX_RESOURCES = 200;

function collectRefs(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, out);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value as JsonObject)) {
    if (k === 'reference' && typeof v === 'string' && /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(v)) out.add(v);
    else collectRefs(v, out);
  }
}

function subjectOf(r: JsonObject): string | undefined {
  for (const key of ['subject', 'patient']) {
    const s = r[key];
    if (typeof s === 'object' && s !== null) {
      const ref = (s as JsonObject)['reference'];
      if (typeof ref === 'string') return ref;
    }
  }
  return undefined;
}

export interface NoticeResources {
  readonly focus: JsonObject;
  readonly resources: readonly JsonObject[];
}

/** `Type/id/_history/n` → `Type/id`. */
export function unversioned(ref: string): string {
  return ref.replace(/\/_history\/[^/]+$/, '');
}

/** The version an event names (`Type/id/_history/n`), or the current one when unversioned; undefined if gone. */
export async function readFocusVersion(tx: Queryable, focusRef: string): Promise<JsonObject | undefined> {
  const [type, id, , version] = focusRef.split('/');
  if (type === undefined || id === undefined) return undefined;
  const [row] = await tx.query<{ resource: JsonObject; deleted: boolean }>(
    version === undefined
      ? `SELECT resource, deleted FROM fhir_resources WHERE resource_type = $1 AND id = $2`
      : `SELECT resource, deleted FROM fhir_resource_history WHERE resource_type = $1 AND id = $2 AND version_id = $3`,
    version === undefined ? [type, id] : [type, id, Number(version)],
    { prepared: true },
  );
  return row === undefined || row.deleted ? undefined : row.resource;
}

/** Reads the focus version (`Type/id/_history/n`, or current when unversioned) and what it references. */
export async function readNoticeResources(
  tx: Queryable,
  focusRef: string,
  patient: string | undefined,
): Promise<NoticeResources | undefined> {
  const focus = await readFocusVersion(tx, focusRef);
  if (focus === undefined) return undefined;
  const [type, id] = focusRef.split('/');
  const seen = new Set<string>([`${type}/${id}`]);
  const resources: JsonObject[] = [];
  let frontier = [focus];
  for (let depth = 0; depth < 2 && frontier.length > 0 && resources.length < MAX_RESOURCES; depth++) {
    const refs = new Set<string>();
    for (const r of frontier) collectRefs(r, refs);
    const wanted = [...refs].filter((ref) => {
      if (seen.has(ref)) return false;
      const t = ref.split('/')[0] ?? '';
      return ref === patient || SHAREABLE.has(t) || ABOUT_PATIENT.has(t);
    });
    for (const ref of wanted) seen.add(ref);
    if (wanted.length === 0) break;
    const rows = await tx.query<{ resource: JsonObject }>(
      `SELECT resource FROM fhir_resources
        WHERE (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND NOT deleted`,
      [wanted.map((w) => w.split('/')[0]), wanted.map((w) => w.split('/')[1])],
      { prepared: true },
    );
    frontier = rows
      .map((r) => r.resource)
      .filter((r) => {
        const t = String(r['resourceType']);
        return !ABOUT_PATIENT.has(t) || subjectOf(r) === patient;
      });
    resources.push(...frontier);
  }
  return { focus, resources: resources.slice(0, MAX_RESOURCES) };
}
