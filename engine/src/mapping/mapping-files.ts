/**
 * The files of MAPPINGS_DIR as the mapping API names them: which relative paths may be read and
 * written (never outside the directory, never the golden examples), what kind of file each is,
 * its ETag, and an atomic write (a temporary file renamed in the same directory), so the watcher
 * and a concurrent reader see the old file or the new one, never half of one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CodedError, errorGuard } from '../errors/coded-error';

/** What a file is to the set: a message mapping, shared rules, a code table, or other data. */
export type MappingFileKind = 'mapping' | 'rules' | 'codes' | 'other';

/** Longest relative path the API takes. */
export const MAX_MAPPING_PATH = 512;

/** A relative path the API refuses, with the reason. */
export class MappingPathError extends CodedError<'mapping-path-invalid'> {
  override readonly name = 'MappingPathError';
  readonly path: string;
  constructor(rel: string, reason: string) {
    super('mapping-path-invalid', reason);
    this.path = rel;
  }
}

export const isMappingPathError = errorGuard<MappingPathError>('MappingPathError');

/**
 * Why `rel` is not a mapping file path, or undefined when it is one: relative, `/`-separated,
 * no `.`/`..`/hidden or empty segments, no control characters or backslashes, not under
 * `tests/`, ending `.yaml`, `.yml` or `.csv`.
 */
export function mappingPathProblem(rel: string): string | undefined {
  if (rel === '') return 'must not be empty';
  if (rel.length > MAX_MAPPING_PATH) return `must be at most ${MAX_MAPPING_PATH} characters`;
  for (let i = 0; i < rel.length; i++) {
    const c = rel.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'must not contain control characters';
  }
  if (rel.includes('\\')) return 'must use / as the separator, not \\';
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) return 'must be relative to the mappings directory';
  const segments = rel.split('/');
  if (segments.some((s) => s === '')) return 'must not contain empty segments';
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain . or .. segments';
  if (segments.some((s) => s.startsWith('.'))) return 'must not name hidden files or directories';
  if (segments[0] === 'tests') return 'tests/ holds the golden examples, not mapping files';
  if (!/\.(ya?ml|csv)$/.test(rel)) return 'must end in .yaml, .yml or .csv';
  return undefined;
}

/** The kind of a (valid) relative path. */
export function mappingFileKind(rel: string): MappingFileKind {
  if (/^(senders\/[^/]+\/)?codes\/[^/]+\.csv$/.test(rel)) return 'codes';
  if (/^(senders\/[^/]+\/)?[^/]+\.ya?ml$/.test(rel)) return 'mapping';
  if (/\.ya?ml$/.test(rel)) return 'rules';
  return 'other';
}

/** A strong ETag of a file's text: `"` + 16 base64url characters of its SHA-256 + `"`. */
export function mappingEtag(content: string): string {
  return `"${createHash('sha256').update(content).digest('base64url').slice(0, 16)}"`;
}

function isInside(root: string, target: string): boolean {
  return target === root || target.startsWith(root + path.sep);
}

/** The nearest ancestor of `p` (itself included) that exists, through symbolic links. */
async function realAncestor(p: string): Promise<string> {
  for (let at = p; ; at = path.dirname(at)) {
    try {
      return await realpath(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a file where a directory would be; the write will fail there, not escape.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(at) === at) throw err;
    }
  }
}

/**
 * The absolute path of `rel` inside `dir`.
 * @throws MappingPathError when `rel` is no mapping file path, or it (or an existing directory on
 *   the way, through symbolic links) lies outside `dir`.
 */
export async function resolveMappingPath(dir: string, rel: string): Promise<string> {
  const problem = mappingPathProblem(rel);
  if (problem !== undefined) throw new MappingPathError(rel, problem);
  const root = path.resolve(dir);
  const target = path.resolve(root, rel);
  if (!isInside(root, target) || target === root) {
    throw new MappingPathError(rel, 'must lie inside the mappings directory');
  }
  const [realRoot, real] = await Promise.all([realpath(root), realAncestor(target)]);
  if (!isInside(realRoot, real)) throw new MappingPathError(rel, 'must lie inside the mappings directory');
  return target;
}

/** A file's text and ETag, or undefined when it does not exist. */
export async function readMappingFile(
  dir: string,
  rel: string,
): Promise<{ readonly content: string; readonly etag: string } | undefined> {
  const file = await resolveMappingPath(dir, rel);
  try {
    const content = await readFile(file, 'utf8');
    return { content, etag: mappingEtag(content) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Replaces (or creates) a file atomically: the text goes to a temporary file in the same
 * directory, is flushed to disk, and is renamed over the old one.
 */
export async function writeMappingFile(dir: string, rel: string, content: string): Promise<void> {
  const file = await resolveMappingPath(dir, rel);
  await mkdir(path.dirname(file), { recursive: true });
  // Hidden and not .yaml/.csv: neither the set nor the API ever lists it.
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
