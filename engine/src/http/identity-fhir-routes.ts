/**
 * The identity side of the /fhir API: IHE PIXm (`Patient/$ihe-pix`), `Patient/$match`, `Person`
 * read and search, and a `Patient/{id}/$everything` that spans every facility's record of the
 * patient. Each passes the same pieces as the rest of /fhir (scopes through `decideAccess`, the
 * patient restriction, an audit of what was returned) and answers every failure with an
 * OperationOutcome. Registered before the generic `/:type` routes, which would otherwise read
 * `$ihe-pix` as an id.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { getAccessContext, type AccessContext, type Interaction } from '../auth/access-context';
import { personMembers } from '../identity/identity-store';
import type { IdentityRules } from '../identity/link-patient';
import { matchDemographics } from '../identity/match-demographics';
import { personIdOf, personsLinking, readPerson, type PersonView } from '../identity/person-resource';
import type { Queryable } from '../store/db';
import { isInPatientCompartment } from '../store/fhir-compartment';
import { asList, asString, field, type JsonObject } from '../store/fhir-json';
import {
  readReferences,
  readResource,
  toStoredResource,
  versionColumns,
  type VersionRow,
} from '../store/fhir-read';
import { PATIENT_COMPARTMENT_TYPES } from '../store/fhir-search-params';
import type { StoredResource } from '../store/fhir-types';
import { decideAccess, namesOtherPatient, withinPatients, type FhirAccess } from './fhir-access';
import { describeReturned } from './fhir-audit-event';
import { fullUrlOf, etagOf } from './fhir-bundles';
import { auditAccess, type AuditedAccess, type FhirHandlerContext } from './fhir-request-guard';
import { outcome, sendOutcome } from './operation-outcome';
import { checkFhirQuery, FHIR_ID_RE, invalidIssue, invalidRequest, issuesOf } from './request-params';

/** What the identity routes need: the /fhir handlers' context and the matching rules. */
export interface IdentityRouteDeps extends FhirHandlerContext {
  readonly rules: IdentityRules;
}

const FHIR_JSON = 'application/fhir+json';
const MATCH_GRADE_URL = 'http://hl7.org/fhir/StructureDefinition/match-grade';

/** `$match` returns this many candidates unless asked for fewer (or more, up to the maximum). */
const DEFAULT_MATCH_COUNT = 10;
const MAX_MATCH_COUNT = 100;

/**
 * Most resources one `$everything` returns. Beyond it the answer is refused as too costly: a
 * client pages through per-type searches instead of getting a truncated record that looks whole.
 */
const MAX_EVERYTHING = 10_000;

/** A request that passed the scope check, with the patient restriction of the scope that let it. */
interface Admitted {
  readonly ctx: AccessContext;
  readonly compartmentPatients: ReadonlySet<string> | undefined;
}

const VERSION_COLUMNS = versionColumns('r');

/** The raw query string (without `?`), exactly as sent: repeats and order matter in FHIR. */
function queryStringOf(req: Request): string {
  return new URL(req.originalUrl, 'http://fhir.invalid').search.slice(1);
}

/**
 * Runs the route only for operation `name` in the `:op` path segment. Matching the decoded
 * segment rather than a literal path admits `%24match` as well as `$match`, as clients send both.
 */
function forOperation(name: string): RequestHandler<{ op: string }> {
  return (req, _res, next) => {
    next(req.params.op === name ? undefined : 'route');
  };
}

/**
 * The scope check of an identity route: allowed when any of `interactions` is granted on
 * `type`, preferring a grant without patient restriction. A refusal is audited and answered 403.
 */
async function admit(
  h: FhirHandlerContext,
  res: Response,
  type: string,
  interactions: readonly Interaction[],
  event: AuditedAccess,
): Promise<Admitted | undefined> {
  const ctx = getAccessContext(res);
  const decided = interactions.map((i) => decideAccess(ctx, type, i));
  const allowed = decided.filter((a): a is Extract<FhirAccess, { allowed: true }> => a.allowed);
  const chosen = allowed.find((a) => a.compartmentPatients === undefined) ?? allowed[0];
  if (chosen !== undefined) return { ctx, compartmentPatients: chosen.compartmentPatients };
  await auditAccess(h, ctx, { ...event, outcome: 'denied' }, []);
  const refused = decided.find((a): a is Extract<FhirAccess, { allowed: false }> => !a.allowed);
  sendOutcome(res, outcome('forbidden', refused?.reason ?? `the token's scopes do not allow ${type}`));
  return undefined;
}

/** Answers 400 for a malformed path id; true when it is a FHIR id. */
function idIsValid(res: Response, id: string): boolean {
  if (FHIR_ID_RE.test(id)) return true;
  sendOutcome(res, invalidRequest([invalidIssue('id', `${JSON.stringify(id)} is not a valid FHIR id`)]), 400);
  return false;
}

/**
 * Audits a Person access. A Person names no patient in the compartment sense, so the patients
 * it links are named explicitly: "who saw this patient" must find Person reads too.
 */
async function auditPersons(
  h: FhirHandlerContext,
  ctx: AccessContext,
  event: AuditedAccess,
  returned: readonly PersonView[],
  patientIds: readonly string[],
): Promise<void> {
  await h.audit({
    ...event,
    clientId: ctx.clientId,
    ...(ctx.subject === undefined ? {} : { subject: ctx.subject }),
    returned: returned.map((p) => `Person/${p.stored.id}`),
    patientIds: [...new Set(patientIds)],
  });
}

/** True when a patient-restricted caller may see `person`: it links one of the caller's patients. */
function personVisible(patients: ReadonlySet<string> | undefined, person: PersonView): boolean {
  return patients === undefined || person.patientIds.some((id) => patients.has(id));
}

function searchset(selfUrl: string, entry: readonly Record<string, unknown>[]): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: entry.length,
    link: [{ relation: 'self', url: selfUrl }],
    entry,
  };
}

function matchEntry(baseUrl: string, r: StoredResource): Record<string, unknown> {
  return {
    fullUrl: fullUrlOf(baseUrl, r.resourceType, r.id),
    resource: r.resource,
    search: { mode: 'match' },
  };
}

/** A Patient's identifiers with both a system and a value (the only ones PIX can cross-reference). */
function identifierPairs(patient: JsonObject): { system: string; value: string }[] {
  return asList(patient['identifier']).flatMap((i) => {
    const system = asString(field(i, 'system'));
    const value = asString(field(i, 'value'));
    return system === undefined || value === undefined ? [] : [{ system, value }];
  });
}

/** Current Patients carrying identifier `system|value`. */
async function patientsWithIdentifier(
  db: Queryable,
  system: string,
  value: string,
): Promise<StoredResource[]> {
  const rows = await db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM fhir_resources r
      WHERE r.resource_type = 'Patient' AND NOT r.deleted AND r.id IN (
        SELECT i.id FROM fhir_search_index i
         WHERE i.resource_type = 'Patient' AND i.param = 'identifier' AND i.system = $1 AND i.value = $2)
      ORDER BY r.id`,
    [system, value],
  );
  // The token index also holds each identifier's type coding (v2-0203|MR): only a real identifier counts.
  return rows
    .map(toStoredResource)
    .filter((p) => identifierPairs(p.resource).some((i) => i.system === system && i.value === value));
}

/** Every Patient id of the persons of `patientIds`; a Patient not linked yet stands for itself. */
async function linkedPatientIds(db: Queryable, patientIds: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const id of patientIds) {
    out.add(id);
    const personId = await personIdOf(db, id);
    if (personId === undefined) continue;
    for (const m of await personMembers(db, personId)) out.add(m.demographics.patientId);
  }
  return [...out].sort();
}

async function readPatients(db: Queryable, ids: readonly string[]): Promise<StoredResource[]> {
  const found = await readReferences(
    db,
    ids.map((id) => `Patient/${id}`),
  );
  return found.sort((a, b) => a.id.localeCompare(b.id));
}

interface PixQuery {
  readonly system: string;
  readonly value: string;
  /** Only identifiers of these systems; undefined: every system. */
  readonly targetSystems: ReadonlySet<string> | undefined;
}

/** Parses the PIXm query; answers 400 itself and returns undefined when it is malformed. */
function parsePixQuery(res: Response, queryString: string): PixQuery | undefined {
  const pairs = [...new URLSearchParams(queryString)];
  if (!checkFhirQuery(res, pairs)) return undefined;
  const issues = pairs
    .filter(([name]) => name !== 'sourceIdentifier' && name !== 'targetSystem')
    .map(([name]) => invalidIssue(name, 'is not a parameter of $ihe-pix'));
  const sources = pairs.filter(([name]) => name === 'sourceIdentifier').map(([, v]) => v);
  const [source] = sources;
  const bar = source?.indexOf('|') ?? -1;
  if (sources.length > 1) issues.push(invalidIssue('sourceIdentifier', 'must be given once'));
  else if (source === undefined) issues.push(invalidIssue('sourceIdentifier', 'is required'));
  else if (bar <= 0 || bar === source.length - 1) {
    issues.push(invalidIssue('sourceIdentifier', 'must be system|value, both non-empty'));
  }
  const targets = pairs.filter(([name]) => name === 'targetSystem').map(([, v]) => v);
  if (targets.some((t) => t === '')) issues.push(invalidIssue('targetSystem', 'must not be empty'));
  if (issues.length > 0 || source === undefined) {
    sendOutcome(res, invalidRequest(issues), 400);
    return undefined;
  }
  return {
    system: source.slice(0, bar),
    value: source.slice(bar + 1),
    targetSystems: targets.length > 0 ? new Set(targets) : undefined,
  };
}

/**
 * `GET Patient/$ihe-pix?sourceIdentifier=system|value[&targetSystem=...]` (IHE PIXm): the other
 * identifiers and Patient ids of the person the identifier belongs to, across facilities.
 */
function pixHandler(h: IdentityRouteDeps): RequestHandler {
  return async (req, res) => {
    const event: AuditedAccess = {
      action: 'search',
      outcome: 'success',
      resourceType: 'Patient',
      query: queryStringOf(req),
    };
    const admitted = await admit(h, res, 'Patient', ['s', 'r'], event);
    if (admitted === undefined) return;
    const q = parsePixQuery(res, event.query ?? '');
    if (q === undefined) return;
    const found = await patientsWithIdentifier(h.db, q.system, q.value);
    const sources = found.filter((p) => withinPatients(admitted.compartmentPatients, p));
    if (sources.length === 0) {
      // A patient-bound token learns nothing of other patients: hidden reads as unknown.
      await auditAccess(
        h,
        admitted.ctx,
        { ...event, outcome: found.length > 0 ? 'denied' : 'success' },
        [],
        found,
      );
      sendOutcome(res, outcome('not-found', `no Patient has this identifier of system ${q.system}`));
      return;
    }
    const sourceIds = new Set(sources.map((p) => p.id));
    const linked = await readPatients(h.db, await linkedPatientIds(h.db, [...sourceIds]));
    // A merged-away record (active false) is no longer a valid place to find the patient.
    const targets = linked
      .filter((p) => sourceIds.has(p.id) || p.resource['active'] !== false)
      .filter((p) => withinPatients(admitted.compartmentPatients, p))
      .sort((a, b) => Number(sourceIds.has(b.id)) - Number(sourceIds.has(a.id)) || a.id.localeCompare(b.id));
    const seen = new Set([`${q.system}|${q.value}`]);
    const identifiers = targets
      .flatMap((p) => identifierPairs(p.resource))
      .filter((i) => q.targetSystems === undefined || q.targetSystems.has(i.system))
      .filter((i) => {
        const key = `${i.system}|${i.value}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    await auditAccess(h, admitted.ctx, event, targets);
    res.type(FHIR_JSON).json({
      resourceType: 'Parameters',
      parameter: [
        ...identifiers.map((i) => ({ name: 'targetIdentifier', valueIdentifier: i })),
        ...targets.map((p) => ({ name: 'targetId', valueReference: { reference: `Patient/${p.id}` } })),
      ],
    });
  };
}

/** One `Parameters.parameter` of `$match`. */
const matchParameter = z.discriminatedUnion(
  'name',
  [
    z.object({
      name: z.literal('resource'),
      resource: z.looseObject({
        resourceType: z.literal('Patient', { error: 'must be a Patient' }),
      }),
    }),
    z.object({
      name: z.literal('onlyCertainMatches'),
      valueBoolean: z.boolean({ error: 'must be a valueBoolean' }),
    }),
    z.object({
      name: z.literal('count'),
      valueInteger: z
        .number({ error: 'must be a valueInteger' })
        .int(`must be a whole number from 1 to ${MAX_MATCH_COUNT}`)
        .min(1, `must be a whole number from 1 to ${MAX_MATCH_COUNT}`)
        .max(MAX_MATCH_COUNT, `must be a whole number from 1 to ${MAX_MATCH_COUNT}`),
    }),
  ],
  { error: 'must be named resource, onlyCertainMatches or count' },
);

/** The `$match` body: exactly one Patient, and each option at most once. */
const matchBody = z
  .object({
    resourceType: z.literal('Parameters', { error: 'must be a Parameters resource' }),
    parameter: z.array(matchParameter, { error: 'must be a list of parameters' }),
  })
  .superRefine((body, ctx) => {
    const times = (name: string): number => body.parameter.filter((p) => p.name === name).length;
    if (times('resource') !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['parameter'],
        message: 'must hold exactly one resource (a Patient)',
      });
    }
    for (const name of ['onlyCertainMatches', 'count']) {
      if (times(name) > 1) {
        ctx.addIssue({ code: 'custom', path: ['parameter'], message: `${name} at most once` });
      }
    }
  });

interface MatchInput {
  readonly patient: JsonObject;
  readonly onlyCertain: boolean;
  readonly count: number;
}

function matchInputOf(body: z.infer<typeof matchBody>): MatchInput {
  let patient: JsonObject = {};
  let onlyCertain = false;
  let count = DEFAULT_MATCH_COUNT;
  for (const p of body.parameter) {
    if (p.name === 'resource') patient = p.resource;
    else if (p.name === 'onlyCertainMatches') onlyCertain = p.valueBoolean;
    else count = p.valueInteger;
  }
  return { patient, onlyCertain, count };
}

/**
 * The `$match` body parser. Only JSON types are parsed; any other body is left unread and the
 * handler answers 415 (after the scope check). Malformed JSON is a 400 from the error handler.
 */
const parseJson = express.json({ type: ['application/json', 'application/fhir+json'] });

/**
 * `POST Patient/$match`: the stored Patients most likely to be the one in the body, best first,
 * each with its probability and match grade. Scored by the linker's own model, so `$match` and
 * linking never disagree on a pair.
 */
function matchHandler(h: IdentityRouteDeps): RequestHandler {
  return async (req, res) => {
    // The body is demographics: the audit keeps who asked and what came back, never the input.
    const event: AuditedAccess = { action: 'search', outcome: 'success', resourceType: 'Patient' };
    const admitted = await admit(h, res, 'Patient', ['s'], event);
    if (admitted === undefined) return;
    const type = req.is(['application/json', 'application/fhir+json']);
    if (type === null) {
      sendOutcome(res, outcome('required', 'the body must be a Parameters resource holding a Patient'));
      return;
    }
    if (type === false) {
      sendOutcome(
        res,
        outcome('not-supported', 'the body must be application/fhir+json or application/json'),
        415,
      );
      return;
    }
    const parsed = matchBody.safeParse(req.body);
    if (!parsed.success) {
      sendOutcome(res, invalidRequest(issuesOf(parsed.error)), 400);
      return;
    }
    const input = matchInputOf(parsed.data);
    const scored = (await matchDemographics(h.db, input.patient, h.rules)).filter(
      (c) => !input.onlyCertain || c.grade === 'certain',
    );
    const stored = new Map(
      (
        await readPatients(
          h.db,
          scored.map((c) => c.patientId),
        )
      ).map((p) => [p.id, p]),
    );
    const shown = scored
      .flatMap((c) => {
        const patient = stored.get(c.patientId);
        return patient !== undefined && withinPatients(admitted.compartmentPatients, patient)
          ? [{ c, patient }]
          : [];
      })
      .slice(0, input.count);
    await auditAccess(
      h,
      admitted.ctx,
      event,
      shown.map((s) => s.patient),
    );
    const entries = shown.map(({ c, patient }) => ({
      fullUrl: fullUrlOf(h.baseUrl, 'Patient', patient.id),
      resource: patient.resource,
      search: {
        mode: 'match',
        score: Math.round(c.probability * 10_000) / 10_000,
        extension: [{ url: MATCH_GRADE_URL, valueCode: c.grade }],
      },
    }));
    res.type(FHIR_JSON).json(searchset(`${h.baseUrl}/fhir/Patient/$match`, entries));
  };
}

/** The current resources of the patient compartments of `patientIds`, at most `limit` + 1. */
async function compartmentOf(
  db: Queryable,
  patientIds: readonly string[],
  limit: number,
): Promise<StoredResource[]> {
  const rows = await db.query<VersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM fhir_resources r
      WHERE NOT r.deleted AND r.resource_type = ANY($2::text[]) AND (r.resource_type, r.id) IN (
        SELECT i.resource_type, i.id FROM fhir_search_index i WHERE i.param = 'patient' AND i.reference = ANY($1::text[]))
      ORDER BY r.resource_type, r.id LIMIT $3`,
    [patientIds.map((id) => `Patient/${id}`), PATIENT_COMPARTMENT_TYPES, limit + 1],
  );
  return rows.map(toStoredResource);
}

/**
 * The resources of `found` the caller may read: each type needs its own read scope, and a
 * patient-restricted scope stays within `patients` (the widened set of `$everything`).
 */
function readableOf(
  ctx: AccessContext,
  found: readonly StoredResource[],
  patients: ReadonlySet<string> | undefined,
): StoredResource[] {
  const byType = new Map<string, FhirAccess>();
  return found.filter((r) => {
    let access = byType.get(r.resourceType);
    if (access === undefined) {
      access = decideAccess(ctx, r.resourceType, 'r');
      byType.set(r.resourceType, access);
    }
    if (!access.allowed) return false;
    const within = access.compartmentPatients === undefined ? undefined : patients;
    return within === undefined || isInPatientCompartment(r.resourceType, r.resource, within);
  });
}

/**
 * `GET Patient/{id}/$everything`: the Patient's whole record from every facility, its person's
 * other Patients and their compartments, and the Person itself.
 */
function everythingHandler(h: IdentityRouteDeps): RequestHandler<{ id: string; op: string }> {
  return async (req, res) => {
    const { id } = req.params;
    if (!idIsValid(res, id)) return;
    const event = { action: 'search', outcome: 'success', resourceType: 'Patient', resourceId: id } as const;
    const admitted = await admit(h, res, 'Patient', ['r'], event);
    if (admitted === undefined) return;
    if (namesOtherPatient(admitted.compartmentPatients, 'Patient', id)) {
      // Refused before any read, so the answer is the same whether or not the Patient exists.
      await h.audit({
        ...event,
        outcome: 'denied',
        clientId: admitted.ctx.clientId,
        ...(admitted.ctx.subject === undefined ? {} : { subject: admitted.ctx.subject }),
        returned: [],
        patientIds: [id],
      });
      sendOutcome(res, outcome('forbidden', `this token may not see Patient/${id}`));
      return;
    }
    const patient = await readResource(h.db, 'Patient', id);
    const hidden = patient !== undefined && !withinPatients(admitted.compartmentPatients, patient);
    if (patient === undefined || patient.deleted || hidden) {
      const attempted = patient === undefined ? [] : [patient];
      await auditAccess(h, admitted.ctx, { ...event, outcome: hidden ? 'denied' : 'success' }, [], attempted);
      sendOutcome(res, outcome('not-found', `Patient/${id} not found`));
      return;
    }
    const memberIds = await linkedPatientIds(h.db, [id]);
    // For this operation only, a token bound to this patient sees the person's other records:
    // they are the same patient, which is what `$everything` asks for.
    const widened =
      admitted.compartmentPatients === undefined
        ? undefined
        : new Set([...admitted.compartmentPatients, ...memberIds]);
    const compartment = await compartmentOf(h.db, memberIds, MAX_EVERYTHING);
    if (compartment.length > MAX_EVERYTHING) {
      sendOutcome(
        res,
        outcome(
          'too-costly',
          `more than ${MAX_EVERYTHING} resources: search each type with patient= instead`,
        ),
      );
      return;
    }
    const patients = await readPatients(h.db, memberIds);
    const ordered = [patient, ...patients.filter((p) => p.id !== id)];
    const personId = await personIdOf(h.db, id);
    const person = personId === undefined ? undefined : await readPerson(h.db, personId);
    const personShown =
      person?.kind === 'found' && decideAccess(admitted.ctx, 'Person', 'r').allowed
        ? [person.person.stored]
        : [];
    const returned = [
      ...readableOf(admitted.ctx, ordered, widened),
      ...personShown,
      ...readableOf(admitted.ctx, compartment, widened),
    ];
    await h.audit({
      ...event,
      clientId: admitted.ctx.clientId,
      ...(admitted.ctx.subject === undefined ? {} : { subject: admitted.ctx.subject }),
      ...describeReturned(returned),
    });
    res.type(FHIR_JSON).json(
      searchset(
        `${h.baseUrl}/fhir/Patient/${id}/$everything`,
        returned.map((r) => matchEntry(h.baseUrl, r)),
      ),
    );
  };
}

/** `GET Person/{id}`; a retired person is gone, and says where its records went. */
function personReadHandler(h: IdentityRouteDeps): RequestHandler<{ id: string }> {
  return async (req, res) => {
    const { id } = req.params;
    if (!idIsValid(res, id)) return;
    const event = { action: 'read', outcome: 'success', resourceType: 'Person', resourceId: id } as const;
    const admitted = await admit(h, res, 'Person', ['r'], event);
    if (admitted === undefined) return;
    const found = await readPerson(h.db, id);
    if (found.kind === 'found' && personVisible(admitted.compartmentPatients, found.person)) {
      await auditPersons(h, admitted.ctx, event, [found.person], found.person.patientIds);
      const { stored } = found.person;
      res
        .set('ETag', etagOf(stored.versionId))
        .set('Last-Modified', new Date(stored.lastUpdated).toUTCString());
      res.type(FHIR_JSON).json(stored.resource);
      return;
    }
    const denied = found.kind === 'found';
    await auditPersons(
      h,
      admitted.ctx,
      { ...event, outcome: denied ? 'denied' : 'success' },
      [],
      denied ? found.person.patientIds : [],
    );
    const diagnostics =
      found.kind === 'retired' && found.mergedInto !== undefined && admitted.compartmentPatients === undefined
        ? `Person/${id} was merged into Person/${found.mergedInto}`
        : found.kind === 'retired'
          ? `Person/${id} is no longer active`
          : `Person/${id} not found`;
    sendOutcome(res, outcome('not-found', diagnostics));
  };
}

/** The Patient id of a Person search (`link` or `patient`: `Patient/{id}` or `{id}`). */
function parsePersonQuery(res: Response, queryString: string): string | undefined {
  const pairs = [...new URLSearchParams(queryString)];
  if (!checkFhirQuery(res, pairs)) return undefined;
  const issues = pairs
    .filter(([name]) => name !== 'link' && name !== 'patient')
    .map(([name]) => invalidIssue(name, 'is not a search parameter of Person (use link or patient)'));
  const given = pairs.filter(([name]) => name === 'link' || name === 'patient');
  const [first] = given;
  const id = first?.[1].replace(/^Patient\//, '');
  if (given.length > 1) issues.push(invalidIssue(first?.[0] ?? 'link', 'give one of link or patient, once'));
  else if (first === undefined) issues.push(invalidIssue('link', 'is required: Patient/{id}'));
  else if (id === undefined || !FHIR_ID_RE.test(id)) {
    issues.push(invalidIssue(first[0], 'must be Patient/{id}'));
  }
  if (issues.length > 0 || id === undefined) {
    sendOutcome(res, invalidRequest(issues), 400);
    return undefined;
  }
  return id;
}

/** `GET Person?link=Patient/{id}` (or `patient=`): the person a Patient is linked to. */
function personSearchHandler(h: IdentityRouteDeps): RequestHandler {
  return async (req, res) => {
    const event: AuditedAccess = {
      action: 'search',
      outcome: 'success',
      resourceType: 'Person',
      query: queryStringOf(req),
    };
    const admitted = await admit(h, res, 'Person', ['s'], event);
    if (admitted === undefined) return;
    const patientId = parsePersonQuery(res, event.query ?? '');
    if (patientId === undefined) return;
    const persons = (await personsLinking(h.db, patientId)).filter((p) =>
      personVisible(admitted.compartmentPatients, p),
    );
    await auditPersons(
      h,
      admitted.ctx,
      event,
      persons,
      persons.flatMap((p) => p.patientIds),
    );
    const self = `${h.baseUrl}/fhir/Person?${event.query ?? ''}`;
    res.type(FHIR_JSON).json(
      searchset(
        self,
        persons.map((p) => matchEntry(h.baseUrl, p.stored)),
      ),
    );
  };
}

/** Registers the identity routes on the /fhir router; call before the generic `/:type` routes. */
export function registerIdentityRoutes(router: Router, deps: IdentityRouteDeps): void {
  router.get('/Patient/:op', forOperation('$ihe-pix'), pixHandler(deps));
  router.post('/Patient/:op', forOperation('$match'), parseJson, matchHandler(deps));
  router.get('/Patient/:id/:op', forOperation('$everything'), everythingHandler(deps));
  router.get('/Person', personSearchHandler(deps));
  router.get('/Person/:id', personReadHandler(deps));
}
