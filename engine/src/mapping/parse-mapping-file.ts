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
  /**
   * When the file failed: the resource rule names it was seen to define, so references to them
   * elsewhere are not reported again ("one mistake, one error"); undefined when not even those
   * could be read.
   */
  readonly failedRuleNames?: readonly string[];
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

/** How a JSON type reads to an analyst. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'text',
  object: 'an object ({ ... })',
  array: 'a list ([ ... ])',
  null: 'empty (null)',
  boolean: 'true or false',
  number: 'a number',
  integer: 'a whole number',
};

function whereOf(e: ErrorObject): string {
  return e.instancePath === '' ? 'file' : e.instancePath.slice(1).replaceAll('/', '.');
}

/**
 * The error in words. A pattern's own regular expression is never shown: the schema's
 * `patternErrorMessage` (which editors show as well) says what is expected.
 */
function describe(e: ErrorObject): string {
  const where = whereOf(e);
  const params = e.params as {
    additionalProperty?: string;
    missingProperty?: string;
    allowedValues?: unknown[];
    allowedValue?: unknown;
  };
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where}: unknown property "${String(params.additionalProperty)}"`;
    case 'pattern': {
      const words = (e.parentSchema as { patternErrorMessage?: unknown } | undefined)?.patternErrorMessage;
      const expected = typeof words === 'string' ? words : 'is not in the expected form';
      const name = (e as ErrorObject & { propertyName?: string }).propertyName;
      return name !== undefined ? `${where}: "${name}" ${expected}` : `${where}: ${expected}`;
    }
    case 'enum':
      return `${where}: must be one of ${(params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${where}: must be ${JSON.stringify(params.allowedValue)}`;
    case 'required':
      return `${where}: needs ${String(params.missingProperty)}:`;
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

function within(e: ErrorObject, path: string): boolean {
  return e.instancePath === path || e.instancePath.startsWith(`${path}/`);
}

/**
 * One mistake, one error. A value checked against alternatives (a rule is a location or an
 * object; a forEach level is a segment or a field) fails every alternative, and ajv reports them
 * all. Keep the alternative the value's shape chose: drop type errors where a deeper error
 * explains the value, an "unknown property" that another alternative looked inside (and the
 * "needs ..." of that same alternative), and the summaries.
 */
function usefulErrors(errors: readonly ErrorObject[]): { message: string; pointer: (string | number)[] }[] {
  const summaries = new Set(['oneOf', 'anyOf', 'if', 'propertyNames']);
  const specific = errors.filter((e) => !summaries.has(e.keyword));
  const known = specific.filter((e) => e.keyword !== 'type');
  const wrongBranch = new Set<string>();
  const kept = specific.filter((e) => {
    if (e.keyword === 'type') return !known.some((o) => within(o, e.instancePath));
    if (e.keyword !== 'additionalProperties') return true;
    const prop = `${e.instancePath}/${String((e.params as { additionalProperty?: string }).additionalProperty)}`;
    const lookedInside = known.some((o) => within(o, prop));
    if (lookedInside) wrongBranch.add(e.instancePath);
    return !lookedInside;
  });
  const shown = kept.filter((e) => e.keyword !== 'required' || !wrongBranch.has(e.instancePath));
  const out: { message: string; pointer: (string | number)[] }[] = [];
  const seen = new Set<string>();
  const add = (message: string, e: ErrorObject): void => {
    if (seen.has(message)) return;
    seen.add(message);
    out.push({ message, pointer: pointerOfError(e) });
  };
  for (const e of shown.length > 0 ? shown : errors.slice(0, 1)) {
    const same = shown.filter((o) => o.keyword === e.keyword && o.instancePath === e.instancePath);
    if (e.keyword === 'type' && same.length > 1) {
      // Every alternative refused the value's type: say once which types would do.
      const types = same.map(
        (o) => TYPE_WORDS[String((o.params as { type?: string }).type)] ?? 'another type',
      );
      add(`${whereOf(e)}: must be ${listWords(types)}`, e);
    } else if (e.keyword === 'required' && same.length > 1) {
      const names = same.map((o) => `${String((o.params as { missingProperty?: string }).missingProperty)}:`);
      add(`${whereOf(e)}: needs one of ${names.join(', ')}`, e);
    } else {
      add(describe(e), e);
    }
  }
  return out;
}

/** The node an error is about: the unknown property or the bad name itself, when it names one. */
function pointerOfError(e: ErrorObject): (string | number)[] {
  const extra =
    (e.params as { additionalProperty?: string }).additionalProperty ??
    (e as ErrorObject & { propertyName?: string }).propertyName;
  return [...pointerOf(e.instancePath), ...(extra !== undefined ? [extra] : [])];
}

function listWords(items: readonly string[]): string {
  const unique = [...new Set(items)];
  return unique.length <= 1
    ? (unique[0] ?? '')
    : `${unique.slice(0, -1).join(', ')} or ${unique.at(-1) ?? ''}`;
}

/** The `resources[].name` texts of a document that did not validate; undefined when unreadable. */
function namesIn(read: () => unknown): string[] | undefined {
  let data: unknown;
  try {
    data = read();
  } catch {
    // The document is too broken to read; its names are unknown, which the caller handles.
    return undefined;
  }
  const resources = (data as { resources?: unknown } | null | undefined)?.resources;
  if (!Array.isArray(resources)) return data === undefined || data === null ? undefined : [];
  return resources.flatMap((r) => {
    const name = (r as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? [name] : [];
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
    // Which rules the broken text defines is unknowable: a rule after the break may be lost.
    return failed(file, lineOf, undefined);
  }
  const data: unknown = doc.toJS() ?? {};
  if (!validate(data)) {
    for (const { message, pointer } of usefulErrors(validate.errors ?? [])) {
      const line = lineOf(pointer);
      problems.push({
        code: MappingErrorCode.SchemaViolation,
        file,
        message,
        ...(line !== undefined ? { line } : {}),
      });
    }
    return failed(
      file,
      lineOf,
      namesIn(() => data),
    );
  }
  return { file, data, lineOf };
}

function failed(
  file: string,
  lineOf: ParsedMappingFile['lineOf'],
  names: readonly string[] | undefined,
): ParsedMappingFile {
  return { file, lineOf, ...(names !== undefined ? { failedRuleNames: names } : {}) };
}
