/**
 * Deploying one mapping file: under a PostgreSQL advisory lock (so two deploys, from any
 * process, never interleave), check the caller's ETag against the file on disk now, validate
 * the whole set with the new text in place, record the version, write the file atomically and
 * reload, all before the transaction commits. A failed write leaves no version row; a commit
 * that fails after the write puts the old file back.
 */
import { lockKeys } from '../store/advisory-locks';
import type { Db } from '../store/db';
import { insertMappingVersion, listMappingVersions } from '../store/mapping-versions';
import { mappingEtag, readMappingFile, writeMappingFile } from '../mapping/mapping-files';
import { rm } from 'node:fs/promises';
import { resolveMappingPath } from '../mapping/mapping-files';
import { isMappingLoadError, type MappingProblem } from '../mapping/mapping-error';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import { overlayTexts, type MappingWorkspace } from './mapping-workspace';

/** The one lock every deploy takes: validation covers the whole set, so deploys queue set-wide. */
const DEPLOY_LOCK = 'mapping-deploy';

/** Author of a baseline: what was on disk before the API (next) changed the file. */
export const BASELINE_AUTHOR = 'files';

/** What the caller's conditional headers demand of the file on disk. */
export type DeployPrecondition =
  /** `If-Match`: the file exists and its ETag is one of these (`*`: any). */
  | { readonly ifMatch: readonly string[] | '*' }
  /** `If-None-Match: *`: the file does not exist yet. */
  | { readonly ifNoneMatch: '*' };

export interface DeployRequest {
  /** Relative path, already checked by the caller (mapping-files.ts rules apply again here). */
  readonly path: string;
  readonly content: string;
  readonly precondition: DeployPrecondition;
  /** Who deploys: the token's subject, else its client. */
  readonly author: string;
  readonly action: 'deploy' | 'rollback';
}

export type DeployOutcome =
  | {
      readonly status: 'deployed';
      readonly path: string;
      readonly etag: string;
      readonly version: number;
      /** The set version in force after the deploy (messages record it as `mappingVersion`). */
      readonly setVersion: string;
      /** False when this process runs no workers: their watcher picks the file up. */
      readonly reloaded: boolean;
    }
  | { readonly status: 'precondition-failed'; readonly currentEtag?: string }
  | { readonly status: 'invalid'; readonly problems: readonly MappingProblem[] };

export interface DeployDeps {
  readonly db: Db;
  readonly workspace: MappingWorkspace;
  /**
   * Switches this process's message handler to the files on disk now, resolving to the set
   * version in force; undefined where no worker runs in this process (ENGINE_ROLE=http).
   */
  readonly reload?: () => Promise<string>;
  readonly logger: Logger;
}

/** Strong comparison (RFC 9110 §13.1.1): a weak tag never matches. */
function holds(p: DeployPrecondition, etag: string | undefined): boolean {
  if ('ifNoneMatch' in p) return etag === undefined;
  if (etag === undefined) return false;
  return p.ifMatch === '*' || p.ifMatch.includes(etag);
}

/**
 * Validates and deploys one file.
 * @throws MappingPathError for a path outside the directory; store and disk failures as they come.
 */
export async function deployMappingFile(deps: DeployDeps, req: DeployRequest): Promise<DeployOutcome> {
  const { db, workspace, logger } = deps;
  const file = await resolveMappingPath(workspace.dir, req.path);
  const etag = mappingEtag(req.content);
  /** Set once the file on disk is the new one: a later failure must put the old one back. */
  let replaced: { readonly previous: string | undefined } | undefined;
  try {
    return await db.transaction(async (tx): Promise<DeployOutcome> => {
      await lockKeys(tx, [DEPLOY_LOCK]);
      const current = await readMappingFile(workspace.dir, req.path);
      if (!holds(req.precondition, current?.etag)) {
        return {
          status: 'precondition-failed',
          ...(current !== undefined ? { currentEtag: current.etag } : {}),
        };
      }
      const texts = overlayTexts(await workspace.deployedTexts(), new Map([[req.path, req.content]]));
      let setVersion: string;
      try {
        setVersion = (await workspace.compile(texts)).version;
      } catch (err) {
        if (isMappingLoadError(err)) return { status: 'invalid', problems: err.problems };
        throw err;
      }
      const [latest] = await listMappingVersions(tx, req.path);
      // The file as it is now (never deployed through the API, or edited by hand since) is kept
      // first, so this deploy can be rolled back to it.
      if (current !== undefined && latest?.etag !== current.etag) {
        await insertMappingVersion(tx, {
          path: req.path,
          content: current.content,
          etag: current.etag,
          author: BASELINE_AUTHOR,
          action: 'baseline',
        });
      }
      const version = await insertMappingVersion(tx, {
        path: req.path,
        content: req.content,
        etag,
        author: req.author,
        action: req.action,
        setVersion,
      });
      await writeMappingFile(workspace.dir, req.path, req.content);
      replaced = { previous: current?.content };
      const inForce = deps.reload === undefined ? setVersion : await deps.reload();
      logger.info(
        { path: req.path, version, setVersion: inForce, action: req.action },
        'mapping file deployed',
      );
      return {
        status: 'deployed',
        path: req.path,
        etag,
        version,
        setVersion: inForce,
        reloaded: deps.reload !== undefined,
      };
    });
  } catch (err) {
    if (replaced !== undefined) await restore(deps, req.path, file, replaced.previous, err);
    throw err;
  }
}

/** Puts the file back as it was before a deploy that did not commit, and reloads. */
async function restore(
  deps: DeployDeps,
  rel: string,
  file: string,
  previous: string | undefined,
  cause: unknown,
): Promise<void> {
  const { logger } = deps;
  logger.error({ path: rel, err: describeError(cause) }, 'mapping deploy failed after the write: restoring');
  try {
    if (previous === undefined) await rm(file, { force: true });
    else await writeMappingFile(deps.workspace.dir, rel, previous);
    await deps.reload?.();
  } catch (err) {
    logger.error({ path: rel, err: describeError(err) }, 'mapping file could not be restored');
  }
}
