/**
 * Parses one mapping file's YAML and checks it against mapping.schema.json, keeping the YAML
 * document so every later problem can be reported at its line.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { MappingErrorCode } from './mapping-error';
import type { MappingProblem } from './mapping-error';
import type { RawMappingFile } from './raw-mapping';

/** A parsed mapping file. */
export interface ParsedMappingFile {
  readonly file: string;
  /** Undefined when the YAML or the schema check failed. */
  readonly data?: RawMappingFile;
  /** The 1-based line of the node at a JSON path (or of its nearest existing parent). */
  lineOf(pointer: readonly (string | number)[]): number | undefined;
}

function locator(doc: Document, lc: LineCounter): ParsedMappingFile['lineOf'] {
  return (pointer) => {
    for (let n = pointer.length; n >= 0; n--) {
      const node: unknown = n === 0 ? doc.contents : doc.getIn(pointer.slice(0, n), true);
      if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

function pointerOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? 'file' : e.instancePath.slice(1).replaceAll('/', '.');
  if (e.keyword === 'additionalProperties') {
    return `${where}: unknown property "${String((e.params as { additionalProperty?: string }).additionalProperty)}"`;
  }
  if (e.keyword === 'propertyNames') return `${where}: element name ${e.message ?? 'is invalid'}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** Keeps the errors an analyst can act on: drops oneOf/anyOf summaries and type errors that a deeper error explains. */
function usefulErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if');
  const kept = specific.filter(
    (e) =>
      e.keyword !== 'type' ||
      !specific.some((o) => o !== e && o.keyword !== 'type' && o.instancePath.startsWith(e.instancePath)),
  );
  const seen = new Set<string>();
  return (kept.length > 0 ? kept : errors.slice(0, 1)).filter((e) => {
    const key = describe(e);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parses and validates; problems are appended to `problems`. */
export function parseMappingFile(
  file: string,
  text: string,
  validate: ValidateFunction<RawMappingFile>,
  problems: MappingProblem[],
): ParsedMappingFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const lineOf = locator(doc, lc);
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0].line;
      problems.push({
        code: MappingErrorCode.InvalidYaml,
        file,
        message: e.message.split('\n')[0] ?? e.code,
        ...(line !== undefined ? { line } : {}),
      });
    }
    return { file, lineOf };
  }
  const data: unknown = doc.toJS() ?? {};
  if (!validate(data)) {
    for (const e of usefulErrors(validate.errors ?? [])) {
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      const line = lineOf([...pointerOf(e.instancePath), ...(extra !== undefined ? [extra] : [])]);
      problems.push({
        code: MappingErrorCode.SchemaViolation,
        file,
        message: describe(e),
        ...(line !== undefined ? { line } : {}),
      });
    }
    return { file, lineOf };
  }
  return { file, data, lineOf };
}
