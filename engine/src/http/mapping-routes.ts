/**
 * The mapping API (`/api/mappings`): list and read the files of MAPPINGS_DIR with their ETags,
 * deploy one (validated with the whole set, written atomically, reloaded without a restart),
 * read its versions and roll back; dry runs and golden tests are in mapping-trial-routes.ts.
 * Reads need `Mapping.r`/`.s`; deploys and rollbacks `Mapping.u` (the console's admin role, or a
 * system token with `system/Mapping.u`) and are audited.
 */
import express, { type RequestHandler, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AccessContext } from '../auth/access-context';
import type { AuditEvent } from '../auth/audit-log';
import { listMappingFiles, MAPPING_SCHEMA_FILE, mappingSetVersion } from '../mapping/load-mappings';
import {
  isMappingPathError,
  mappingFileKind,
  mappingPathProblem,
  readMappingFile,
  resolveMappingPath,
} from '../mapping/mapping-files';
import type { Logger } from '../observability/logger';
import { deployMappingFile, type DeployPrecondition } from '../pipeline/mapping-deploy';
import { createMappingWorkspace } from '../pipeline/mapping-workspace';
import type { Db } from '../store/db';
import { latestMappingVersions, listMappingVersions, readMappingVersion } from '../store/mapping-versions';
import { adminAccess, type AdminAccess } from './admin-access';
import { addMappingTrialRoutes } from './mapping-trial-routes';
import { sendBadPath, sendProblems } from './mapping-outcomes';
import { outcome, sendOutcome } from './operation-outcome';
import { parseParams } from './request-params';

export interface MappingRouterDeps {
  readonly db: Db;
  /** MAPPINGS_DIR. */
  readonly dir: string;
  /** DEFAULT_TIMEZONE: dry runs map as the engine does. */
  readonly defaultTimezone: string;
  /** Verifies the caller and leaves the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  /** The audit writer the admin API uses (auth runtime's `audit`). */
  readonly audit: (event: AuditEvent) => Promise<void>;
  /**
   * Switches this process's workers to the files on disk now (ENGINE_ROLE=all); undefined in a
   * process without workers, whose deploys the worker processes' watchers pick up.
   */
  readonly reload?: () => Promise<string>;
  readonly logger: Logger;
}

const MAPPING_TYPE = 'Mapping';

/** Largest mapping file the API writes, in characters. */
export const MAX_MAPPING_FILE = 1_000_000;

const deployBody = z.strictObject({
  content: z
    .string({ error: 'must be the file text' })
    .max(MAX_MAPPING_FILE, `must be at most ${MAX_MAPPING_FILE} characters`)
    .refine((v) => !v.includes('\0'), 'must not contain NUL characters'),
});

const VERSION_RE = /^[1-9]\d{0,8}$/;

/** What a wildcard path names: a file, its versions, one version, or a rollback to it. */
type Target =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'versions'; readonly path: string }
  | { readonly kind: 'version' | 'rollback'; readonly path: string; readonly version: number };

function targetOf(segments: readonly string[]): Target {
  const n = segments.length;
  const at = (i: number): string => segments[n + i] ?? '';
  if (n >= 4 && at(-1) === 'rollback' && at(-3) === 'versions' && VERSION_RE.test(at(-2))) {
    return { kind: 'rollback', path: segments.slice(0, -3).join('/'), version: Number(at(-2)) };
  }
  if (n >= 3 && at(-2) === 'versions' && VERSION_RE.test(at(-1))) {
    return { kind: 'version', path: segments.slice(0, -2).join('/'), version: Number(at(-1)) };
  }
  if (n >= 2 && at(-1) === 'versions') return { kind: 'versions', path: segments.slice(0, -1).join('/') };
  return { kind: 'file', path: segments.join('/') };
}

/** The wildcard's segments (express 5 gives an array), checked; answers 400 itself. */
async function targetOfRequest(dir: string, req: Request, res: Response): Promise<Target | undefined> {
  const raw: unknown = (req.params as Record<string, unknown>)['path'];
  const segments = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
  // A segment with an encoded `/` (%2F) is split like any other, so `..` cannot hide in one.
  const target = targetOf(segments.join('/').split('/'));
  const problem = mappingPathProblem(target.path);
  if (problem !== undefined) {
    sendBadPath(res, problem);
    return undefined;
  }
  try {
    // Through symbolic links: a link inside the directory must not lead out of it.
    await resolveMappingPath(dir, target.path);
  } catch (err) {
    if (!isMappingPathError(err)) throw err;
    sendBadPath(res, err.message);
    return undefined;
  }
  return target;
}

/** `If-Match` (a list of strong tags, or `*`) or `If-None-Match: *`; undefined when neither. */
function preconditionOf(req: Request): DeployPrecondition | undefined {
  const ifMatch = req.get('if-match')?.trim();
  if (ifMatch !== undefined && ifMatch !== '') {
    if (ifMatch === '*') return { ifMatch: '*' };
    // A weak tag never matches under If-Match's strong comparison: dropped here.
    const tags = (ifMatch.match(/(?:W\/)?"[^"]*"/g) ?? []).filter((t) => !t.startsWith('W/'));
    return { ifMatch: tags };
  }
  if (req.get('if-none-match')?.trim() === '*') return { ifNoneMatch: '*' };
  return undefined;
}

/** Who a version row names as its author. */
const authorOf = (ctx: AccessContext): string => ctx.subject ?? ctx.clientId;

/** Routes mounted at `/api/mappings`. */
export function createMappingRouter(deps: MappingRouterDeps): Router {
  const router = express.Router();
  const workspace = createMappingWorkspace(deps.dir);
  const access: AdminAccess = adminAccess(deps.audit, MAPPING_TYPE);
  router.use(deps.authorize);

  const canRead = (res: Response, action: AuditEvent['action']): Promise<AccessContext | undefined> =>
    access.allowed(
      res,
      [
        [MAPPING_TYPE, 'r'],
        [MAPPING_TYPE, 's'],
      ],
      action,
    );
  const canDeploy = (res: Response): Promise<AccessContext | undefined> =>
    access.allowed(res, [[MAPPING_TYPE, 'u']], 'update');

  router.get('/', async (_req, res) => {
    if ((await canRead(res, 'search')) === undefined) return;
    const [paths, latest] = await Promise.all([listMappingFiles(deps.dir), latestMappingVersions(deps.db)]);
    const texts = new Map<string, string>();
    const files = [];
    for (const rel of paths) {
      const file = await readMappingFile(deps.dir, rel);
      if (file === undefined) continue;
      texts.set(rel, file.content);
      const deployed = latest.get(rel);
      files.push({
        path: rel,
        etag: file.etag,
        kind: mappingFileKind(rel),
        ...(deployed !== undefined
          ? {
              deployed: { version: deployed.version, author: deployed.author, at: deployed.at },
              // Edited on disk (by hand) since the API last deployed it.
              ...(deployed.etag !== file.etag ? { changedOnDisk: true } : {}),
            }
          : {}),
      });
    }
    res.json({ version: mappingSetVersion(texts), files });
  });

  router.get('/schema', async (_req, res) => {
    if ((await canRead(res, 'read')) === undefined) return;
    res.type('application/schema+json').sendFile(MAPPING_SCHEMA_FILE);
  });

  addMappingTrialRoutes(router, { db: deps.db, access, workspace, defaultTimezone: deps.defaultTimezone });

  router.get('/*path', async (req, res) => {
    if ((await canRead(res, 'read')) === undefined) return;
    const target = await targetOfRequest(deps.dir, req, res);
    if (target === undefined) return;
    if (target.kind === 'rollback') {
      sendOutcome(res, outcome('not-supported', 'a rollback is a POST'), 405);
      return;
    }
    if (target.kind === 'versions') {
      res.json({ path: target.path, versions: await listMappingVersions(deps.db, target.path) });
      return;
    }
    if (target.kind === 'version') {
      const v = await readMappingVersion(deps.db, target.path, target.version);
      if (v === undefined) {
        sendOutcome(res, outcome('not-found', `${target.path} has no version ${target.version}`));
        return;
      }
      res.json(v);
      return;
    }
    const file = await readMappingFile(deps.dir, target.path);
    if (file === undefined) {
      sendOutcome(res, outcome('not-found', `${target.path} does not exist`));
      return;
    }
    const [latest] = await listMappingVersions(deps.db, target.path);
    res.set('ETag', file.etag).set('Cache-Control', 'no-cache');
    res.json({
      path: target.path,
      content: file.content,
      etag: file.etag,
      ...(latest !== undefined && latest.etag === file.etag ? { version: latest.version } : {}),
    });
  });

  /** Deploys `content` at the target's path and answers; audits the attempt. */
  const deploy = async (
    req: Request,
    res: Response,
    ctx: AccessContext,
    rel: string,
    content: string,
    action: 'deploy' | 'rollback',
  ): Promise<void> => {
    const precondition = preconditionOf(req);
    if (precondition === undefined) {
      sendOutcome(
        res,
        outcome(
          'required',
          'send If-Match with the ETag you read (or If-None-Match: * to create the file)',
          'error',
          ['If-Match'],
        ),
        428,
      );
      return;
    }
    const result = await deployMappingFile(
      {
        db: deps.db,
        workspace,
        logger: deps.logger,
        ...(deps.reload !== undefined ? { reload: deps.reload } : {}),
      },
      { path: rel, content, precondition, author: authorOf(ctx), action },
    );
    const audited = (outcomeOf: 'success' | 'error'): Promise<void> =>
      access.audit(ctx, { action: 'update', outcome: outcomeOf, resourceId: rel }, []);
    switch (result.status) {
      case 'precondition-failed':
        await audited('error');
        sendOutcome(
          res,
          outcome(
            'conflict',
            result.currentEtag === undefined
              ? `${rel} does not exist (create it with If-None-Match: *)`
              : `${rel} changed since it was read: its ETag is now ${result.currentEtag}`,
          ),
          412,
        );
        return;
      case 'invalid':
        await audited('error');
        sendProblems(res, result.problems);
        return;
      case 'deployed':
        await audited('success');
        res.set('ETag', result.etag).json({
          path: result.path,
          etag: result.etag,
          version: result.version,
          setVersion: result.setVersion,
        });
        return;
    }
  };

  router.put('/*path', express.json({ limit: '4mb' }), async (req, res) => {
    const ctx = await canDeploy(res);
    if (ctx === undefined) return;
    if (!req.is('application/json')) {
      sendOutcome(res, outcome('not-supported', 'the body must be JSON: {"content": "..."}'), 415);
      return;
    }
    const target = await targetOfRequest(deps.dir, req, res);
    if (target === undefined) return;
    if (target.kind !== 'file') {
      sendOutcome(res, outcome('not-supported', 'only a file can be PUT'), 405);
      return;
    }
    const body = parseParams(res, deployBody, req.body);
    if (body === undefined) return;
    await deploy(req, res, ctx, target.path, body.content, 'deploy');
  });

  router.post('/*path', async (req, res) => {
    const ctx = await canDeploy(res);
    if (ctx === undefined) return;
    const target = await targetOfRequest(deps.dir, req, res);
    if (target === undefined) return;
    if (target.kind !== 'rollback') {
      sendOutcome(res, outcome('not-found', `no route for POST ${req.path}`));
      return;
    }
    const v = await readMappingVersion(deps.db, target.path, target.version);
    if (v === undefined) {
      sendOutcome(res, outcome('not-found', `${target.path} has no version ${target.version}`));
      return;
    }
    await deploy(req, res, ctx, target.path, v.content, 'rollback');
  });

  return router;
}
