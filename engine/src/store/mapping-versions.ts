/**
 * The deployed versions of mapping files (`mapping_versions`): each deploy or rollback is a row
 * with its author, time and content, numbered per file, so any version can be read back and
 * rolled back to. Callers number new rows under the deploy lock, so numbers never collide.
 */
import type { Queryable } from './db';

export type MappingVersionAction = 'baseline' | 'deploy' | 'rollback';

/** One version of one file, without its content. */
export interface MappingVersionSummary {
  readonly version: number;
  readonly etag: string;
  readonly author: string;
  readonly action: MappingVersionAction;
  /** The set version it was deployed in; undefined for a baseline. */
  readonly setVersion?: string;
  readonly at: string;
}

/** One version with its content. */
export interface MappingVersion extends MappingVersionSummary {
  readonly path: string;
  readonly content: string;
}

interface VersionRow {
  path: string;
  version: number;
  content?: string;
  etag: string;
  author: string;
  action: MappingVersionAction;
  set_version: string | null;
  created_at: Date | string;
}

const SUMMARY_COLUMNS = `path, version, etag, author, action, set_version, created_at`;

function toSummary(r: VersionRow): MappingVersionSummary {
  return {
    version: r.version,
    etag: r.etag,
    author: r.author,
    action: r.action,
    ...(r.set_version !== null ? { setVersion: r.set_version } : {}),
    at: new Date(r.created_at).toISOString(),
  };
}

/** Every version of a file, newest first. */
export async function listMappingVersions(db: Queryable, path: string): Promise<MappingVersionSummary[]> {
  const rows = await db.query<VersionRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM mapping_versions WHERE path = $1 ORDER BY version DESC`,
    [path],
  );
  return rows.map(toSummary);
}

/** One version of a file with its content, or undefined. */
export async function readMappingVersion(
  db: Queryable,
  path: string,
  version: number,
): Promise<MappingVersion | undefined> {
  const [row] = await db.query<VersionRow>(
    `SELECT ${SUMMARY_COLUMNS}, content FROM mapping_versions WHERE path = $1 AND version = $2`,
    [path, version],
  );
  return row === undefined ? undefined : { ...toSummary(row), path: row.path, content: row.content ?? '' };
}

/** The newest version of each file that has one, by path. */
export async function latestMappingVersions(db: Queryable): Promise<Map<string, MappingVersionSummary>> {
  const rows = await db.query<VersionRow>(
    `SELECT DISTINCT ON (path) ${SUMMARY_COLUMNS} FROM mapping_versions ORDER BY path, version DESC`,
  );
  return new Map(rows.map((r) => [r.path, toSummary(r)]));
}

/** What a new version row holds; its number is the file's next. */
export interface NewMappingVersion {
  readonly path: string;
  readonly content: string;
  readonly etag: string;
  readonly author: string;
  readonly action: MappingVersionAction;
  readonly setVersion?: string;
}

/**
 * Adds the file's next version. Call it under the deploy lock (pipeline/mapping-deploy.ts):
 * two writers numbering at once would collide on UNIQUE (path, version).
 * @returns the new version's number.
 */
export async function insertMappingVersion(tx: Queryable, v: NewMappingVersion): Promise<number> {
  const [row] = await tx.query<{ version: number }>(
    `INSERT INTO mapping_versions (path, version, content, etag, author, action, set_version)
     SELECT $1::text, COALESCE(MAX(version), 0) + 1, $2::text, $3::text, $4::text, $5::text, $6::text
       FROM mapping_versions WHERE path = $1::text
     RETURNING version`,
    [v.path, v.content, v.etag, v.author, v.action, v.setVersion ?? null],
  );
  if (row === undefined) throw new Error('mapping version insert returned no row');
  return row.version;
}
