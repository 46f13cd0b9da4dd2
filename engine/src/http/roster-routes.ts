/**
 * A practice's roster over the admin API (`/api/roster`): upload a CSV of the patients attributed
 * to an Organization, and read back how each row matched. Rows are demographics and their
 * matches name persons, so every call is scoped (`Group`, as FHIR rosters are Groups) and
 * audited one row per patient, and no answer echoes a name or birth date back.
 */
import express, { type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { type AccessContext, type Interaction } from '../auth/access-context';
import type { AuditEvent } from '../auth/audit-log';
import type { IdentityRules } from '../identity/link-patient';
import { matchProbability } from '../identity/match-model';
import { csvRosterId, storeCsvRoster } from '../notify/roster-match';
import { isRosterCsvError, MAX_ROSTER_BYTES, parseRosterCsv, RosterCsvErrorCode } from '../notify/roster-csv';
import { listRoster, type RosterStatus } from '../notify/roster-store';
import type { Db } from '../store/db';
import { readResource } from '../store/fhir-read';
import { adminAccess } from './admin-access';
import { outcome, sendOutcome } from './operation-outcome';
import { FHIR_ID_RE, parseParams, safeText } from './request-params';

export interface RosterRouterDeps {
  readonly db: Db;
  /** Verifies the bearer token and leaves the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  /** The audit writer the admin API uses (auth runtime's `audit`). */
  readonly audit: (event: AuditEvent) => Promise<void>;
  readonly rules: IdentityRules;
  /** Today as `YYYY-MM-DD`, for birth dates in the future. @defaultValue the UTC date now */
  readonly today?: () => string;
}

const ROSTER_TYPE = 'Group';

const rosterQuery = z.strictObject({
  organization: safeText(80).refine(
    (v) => v.startsWith('Organization/') && FHIR_ID_RE.test(v.slice('Organization/'.length)),
    'must be Organization/<id>',
  ),
});

/** A match weight as `$match`'s probability, four decimals. */
const scoreOf = (weight: number): number => Math.round(matchProbability(weight) * 10_000) / 10_000;

const personRef = (id: string): string => `Person/${id}`;

/** Routes mounted at `/api/roster`. */
export function createRosterRouter(deps: RosterRouterDeps): Router {
  const router = express.Router();
  const today = deps.today ?? ((): string => new Date().toISOString().slice(0, 10));
  router.use(deps.authorize);

  // A roster spans a practice's patients: Group scopes on every patient.
  const access = adminAccess(deps.audit, ROSTER_TYPE);
  const audit = access.audit;
  const allowed = (
    res: Response,
    interactions: readonly Interaction[],
    action: AuditEvent['action'],
  ): Promise<AccessContext | undefined> =>
    access.allowed(
      res,
      interactions.map((i) => [ROSTER_TYPE, i] as const),
      action,
    );

  /** The Organization of the query, answering 400 or 422 itself when it is malformed or unknown. */
  const organizationOf = async (res: Response, query: unknown): Promise<string | undefined> => {
    const q = parseParams(res, rosterQuery, query);
    if (q === undefined) return undefined;
    const stored = await readResource(deps.db, 'Organization', q.organization.slice('Organization/'.length));
    if (stored === undefined || stored.deleted) {
      sendOutcome(
        res,
        outcome('not-found', `${q.organization} is not a stored Organization`, 'error', ['organization']),
        422,
      );
      return undefined;
    }
    return q.organization;
  };

  router.post(
    '/',
    // Parsed only when it is CSV; anything else is left unread and answered 415 below.
    express.text({ type: 'text/csv', limit: MAX_ROSTER_BYTES }),
    async (req, res) => {
      const ctx = await allowed(res, ['c', 'u'], 'update');
      if (ctx === undefined) return;
      const type = req.is('text/csv');
      if (type === null) {
        sendOutcome(res, outcome('required', 'the body must be a CSV roster (text/csv)'));
        return;
      }
      if (type === false) {
        sendOutcome(res, outcome('not-supported', 'the body must be text/csv'), 415);
        return;
      }
      const organization = await organizationOf(res, req.query);
      if (organization === undefined) return;
      let parsed;
      try {
        parsed = parseRosterCsv(typeof req.body === 'string' ? req.body : '', today());
      } catch (err) {
        if (!isRosterCsvError(err)) throw err;
        const tooLarge = err.code === RosterCsvErrorCode.TooLarge;
        sendOutcome(res, outcome(tooLarge ? 'too-costly' : 'invalid', err.message), tooLarge ? 413 : 400);
        return;
      }
      const stored = await storeCsvRoster(deps.db, organization, parsed, deps.rules);
      await audit(
        ctx,
        { action: 'update', outcome: 'success', resourceId: stored.roster },
        stored.patientIds,
      );
      res.json({
        roster: stored.roster,
        organization: stored.organization,
        rows: stored.rows,
        matched: stored.matched,
        review: stored.review,
        unmatched: stored.unmatched,
        invalid: stored.invalid,
        results: stored.results.map((r) => ({
          row: r.row,
          status: r.status,
          ...(r.personId !== undefined ? { person: personRef(r.personId) } : {}),
          ...(r.weight !== undefined ? { score: scoreOf(r.weight) } : {}),
        })),
      });
    },
  );

  router.get('/', async (req, res) => {
    const ctx = await allowed(res, ['r', 's'], 'search');
    if (ctx === undefined) return;
    const organization = await organizationOf(res, req.query);
    if (organization === undefined) return;
    const roster = csvRosterId(organization);
    const members = await listRoster(deps.db, roster);
    const matched = members.filter((m) => m.status === 'matched');
    await audit(
      ctx,
      { action: 'search', outcome: 'success', resourceId: roster },
      matched.flatMap((m) => (m.patientId === undefined ? [] : [m.patientId])),
    );
    const count = (s: RosterStatus): number => members.filter((m) => m.status === s).length;
    res.json({
      roster,
      organization,
      rows: members.length,
      matched: matched.length,
      review: count('review'),
      unmatched: count('unmatched'),
      members: members.map((m) => ({
        row: m.row,
        status: m.status,
        ...(m.status === 'matched' && m.personId !== undefined ? { person: personRef(m.personId) } : {}),
        ...(m.status !== 'unmatched' && m.weight !== undefined ? { score: scoreOf(m.weight) } : {}),
        ...(m.practitionerNpi !== undefined ? { practitionerNpi: m.practitionerNpi } : {}),
        ...(m.practitioner !== undefined ? { practitioner: m.practitioner } : {}),
        updated: m.updatedAt,
      })),
    });
  });

  router.use((req, res) => {
    sendOutcome(res, outcome('not-found', `no route for ${req.method} /api/roster${req.path}`));
  });
  return router;
}
