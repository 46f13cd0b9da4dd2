/**
 * Trying a mapping change before it is deployed: `POST /api/mappings/dry-run` maps archived (or
 * pasted) messages with the deployed set and with the edited files overlaid and reports what
 * changes; `POST /api/mappings/test` runs the golden examples against the edited set. Nothing is
 * written and nothing is sent. A dry run over archived messages reads PHI: it also needs
 * `Message.r`, and is audited (one row).
 */
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AccessContext } from '../auth/access-context';
import { judgeGoldenCases } from '../mapping/golden-examples';
import { mappingPathProblem } from '../mapping/mapping-files';
import { isMappingLoadError } from '../mapping/mapping-error';
import type { MappingSet } from '../mapping/mapping-types';
import { dryRunMessages, MAX_DRY_RUN_MESSAGES, type DryRunSelector } from '../pipeline/dry-run-messages';
import { dryRunMappings } from '../pipeline/mapping-dry-run';
import { overlayTexts, type MappingWorkspace } from '../pipeline/mapping-workspace';
import type { Db } from '../store/db';
import type { AdminAccess } from './admin-access';
import { sendProblems } from './mapping-outcomes';
import { outcome, sendOutcome } from './operation-outcome';
import {
  invalidIssue,
  invalidRequest,
  MAX_FILTER_LENGTH,
  messageId,
  parseParams,
  safeText,
} from './request-params';

export interface MappingTrialDeps {
  readonly db: Db;
  /** The mapping router's access rule and audit (`Mapping` rows). */
  readonly access: AdminAccess;
  readonly workspace: MappingWorkspace;
  /** DEFAULT_TIMEZONE, for senders whose `sender.yaml` names no zone. */
  readonly defaultTimezone: string;
}

/** Results carry both Bundles when this many messages or fewer were asked for. */
export const MAX_MESSAGES_WITH_OUTPUT = 10;

/** Largest file or pasted message a trial takes, in characters. */
const MAX_TEXT = 1_000_000;

/** Most files one trial overlays. */
const MAX_FILES = 100;

const text = z
  .string({ error: 'must be text' })
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .refine((v) => !v.includes('\0'), 'must not contain NUL characters');

const files = z
  .record(z.string(), text)
  .refine((f) => Object.keys(f).length <= MAX_FILES, `at most ${MAX_FILES} files`)
  .default({});

const archiveId = z.union([
  messageId,
  z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).transform(String),
]);

const messages = z.union(
  [
    z.strictObject({ ids: z.array(archiveId).min(1).max(MAX_DRY_RUN_MESSAGES) }),
    z.strictObject({
      sender: safeText(MAX_FILTER_LENGTH),
      last: z.number().int().min(1).max(MAX_DRY_RUN_MESSAGES),
    }),
    z.strictObject({ hl7: text.refine((v) => v.trim() !== '', 'must not be empty') }),
  ],
  {
    error: `must be {"ids": [...]} (at most ${MAX_DRY_RUN_MESSAGES}), {"sender": "...", "last": N} (N at most ${MAX_DRY_RUN_MESSAGES}) or {"hl7": "..."}`,
  },
);

const dryRunBody = z.strictObject({ files, messages });
const testBody = z.strictObject({ files });

/** JSON bodies only; answers 415 itself. */
function isJson(req: Request, res: Response): boolean {
  if (req.is('application/json')) return true;
  sendOutcome(res, outcome('not-supported', 'the body must be JSON'), 415);
  return false;
}

/** The files to overlay, every path checked; answers 400 itself listing each bad one. */
function overlayOf(res: Response, given: Record<string, string>): Map<string, string> | undefined {
  const issues = Object.keys(given).flatMap((rel) => {
    const problem = mappingPathProblem(rel);
    return problem === undefined ? [] : [invalidIssue(`files.${rel}`, problem)];
  });
  if (issues.length > 0) {
    sendOutcome(res, invalidRequest(issues), 400);
    return undefined;
  }
  return new Map(Object.entries(given));
}

/**
 * The deployed set and the candidate; answers itself when either does not load (the deployed
 * one only when MAPPINGS_DIR was broken by hand: 409).
 */
async function setsOf(
  res: Response,
  workspace: MappingWorkspace,
  overlay: ReadonlyMap<string, string>,
): Promise<{ deployed: MappingSet; candidate: MappingSet } | undefined> {
  const texts = await workspace.deployedTexts();
  let deployed: MappingSet;
  try {
    deployed = await workspace.compile(texts);
  } catch (err) {
    if (!isMappingLoadError(err)) throw err;
    sendProblems(
      res,
      err.problems,
      'the files in MAPPINGS_DIR do not load: fix them before trying a change',
      409,
    );
    return undefined;
  }
  try {
    return { deployed, candidate: await workspace.compile(overlayTexts(texts, overlay)) };
  } catch (err) {
    if (!isMappingLoadError(err)) throw err;
    sendProblems(res, err.problems);
    return undefined;
  }
}

/** How many messages a selector asks for, at most. */
function countOf(selector: DryRunSelector): number {
  if ('ids' in selector) return new Set(selector.ids).size;
  if ('sender' in selector) return selector.last;
  return 1;
}

/** Adds `/dry-run` and `/test` to the mapping router. */
export function addMappingTrialRoutes(router: Router, deps: MappingTrialDeps): void {
  const { access, workspace } = deps;
  const json = express.json({ limit: '16mb' });
  const canTry = (res: Response): Promise<AccessContext | undefined> =>
    access.allowed(
      res,
      [
        ['Mapping', 'r'],
        ['Mapping', 's'],
      ],
      'operation',
    );

  router.post('/dry-run', json, async (req, res) => {
    const ctx = await canTry(res);
    if (ctx === undefined) return;
    if (!isJson(req, res)) return;
    const body = parseParams(res, dryRunBody, req.body);
    if (body === undefined) return;
    const selector: DryRunSelector = body.messages;
    // Archived messages are patients' data: reading them takes what reading a message takes.
    if (!('hl7' in selector) && (await access.allowed(res, [['Message', 'r']], 'operation')) === undefined) {
      return;
    }
    const overlay = overlayOf(res, body.files);
    if (overlay === undefined) return;
    const sets = await setsOf(res, workspace, overlay);
    if (sets === undefined) return;
    const report = await dryRunMappings(dryRunMessages(deps.db, selector), sets.deployed, sets.candidate, {
      defaultTimezone: deps.defaultTimezone,
      includeOutputs: countOf(selector) <= MAX_MESSAGES_WITH_OUTPUT,
    });
    await access.audit(
      ctx,
      {
        action: 'operation',
        outcome: 'success',
        resourceId: 'dry-run',
        detail: {
          selector: 'ids' in selector ? 'ids' : 'sender' in selector ? 'sender' : 'hl7',
          messages: report.results.length,
          files: overlay.size,
        },
      },
      [],
    );
    res.json({ deployedVersion: sets.deployed.version, candidateVersion: sets.candidate.version, ...report });
  });

  router.post('/test', json, async (req, res) => {
    if ((await canTry(res)) === undefined) return;
    if (!isJson(req, res)) return;
    const body = parseParams(res, testBody, req.body);
    if (body === undefined) return;
    const overlay = overlayOf(res, body.files);
    if (overlay === undefined) return;
    let candidate: MappingSet;
    try {
      candidate = await workspace.compile(overlayTexts(await workspace.deployedTexts(), overlay));
    } catch (err) {
      if (!isMappingLoadError(err)) throw err;
      sendProblems(res, err.problems);
      return;
    }
    const judged = await judgeGoldenCases(path.join(workspace.dir, 'tests'), candidate);
    const results = judged.map((r) => ({
      name: r.name,
      status: r.status === 'pass' ? ('pass' as const) : ('fail' as const),
      differences: r.differences,
    }));
    const passed = results.filter((r) => r.status === 'pass').length;
    res.json({
      setVersion: candidate.version,
      results,
      summary: { passed, failed: results.length - passed },
    });
  });
}
