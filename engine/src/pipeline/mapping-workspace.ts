/**
 * The mapping API's view of MAPPINGS_DIR: the files deployed there now, and sets compiled from
 * them with an analyst's edits overlaid, validated like a load (result flags included) without
 * touching the disk. Compiled sets are kept by version, so a dry run after a dry run, or the
 * deployed side of every dry run, is not compiled again.
 */
import type { FhirSchemaIndex } from '../mapping/fhir-schema-index';
import {
  loadFhirSchemaIndex,
  loadMappingSetFromTexts,
  loadMappingValidator,
  mappingSetVersion,
  readMappingTexts,
  type MappingFileValidator,
} from '../mapping/load-mappings';
import { isMappingLoadError, MappingErrorCode, MappingLoadError } from '../mapping/mapping-error';
import type { MappingProblem } from '../mapping/mapping-error';
import type { MappingSet } from '../mapping/mapping-types';
import { RESULT_FLAGS_FILE, resultFlagProblems } from '../notify/result-flags';

/** Texts of a set by relative path. */
export type MappingTexts = ReadonlyMap<string, string>;

export interface MappingWorkspace {
  /** The mappings directory. */
  readonly dir: string;
  /** Every file of the set on disk now, by relative path. */
  deployedTexts(): Promise<Map<string, string>>;
  /**
   * Validates and compiles `texts`; problems name files by relative path (`rules/patient.yaml`).
   * @throws MappingLoadError listing every problem, result flags included.
   */
  compile(texts: MappingTexts): Promise<MappingSet>;
}

/** `base` with `files` put over it (a new path adds a file). */
export function overlayTexts(base: MappingTexts, files: MappingTexts): Map<string, string> {
  return new Map([...base, ...files]);
}

/** How many compiled sets are kept: the deployed one and a few candidates. */
const KEPT_SETS = 4;

/** @param dir - MAPPINGS_DIR. */
export function createMappingWorkspace(dir: string): MappingWorkspace {
  let tools: Promise<{ schema: FhirSchemaIndex; validate: MappingFileValidator }> | undefined;
  const compiled = new Map<string, Promise<MappingSet>>();
  const compileNow = async (texts: MappingTexts): Promise<MappingSet> => {
    tools ??= Promise.all([loadFhirSchemaIndex(), loadMappingValidator()]).then(([schema, validate]) => ({
      schema,
      validate,
    }));
    const { schema, validate } = await tools;
    const flags = texts.get(RESULT_FLAGS_FILE);
    const flagProblems: MappingProblem[] = (flags === undefined ? [] : resultFlagProblems(flags)).map(
      (p) => ({ code: MappingErrorCode.BadTable, file: RESULT_FLAGS_FILE, line: p.line, message: p.message }),
    );
    const problems: MappingProblem[] = [];
    let set: MappingSet | undefined;
    try {
      set = await loadMappingSetFromTexts('', texts, { schema, validate });
    } catch (err) {
      if (!isMappingLoadError(err)) throw err;
      problems.push(...err.problems);
    }
    problems.push(...flagProblems);
    if (set === undefined || problems.length > 0) throw new MappingLoadError(problems);
    return set;
  };
  return {
    dir,
    deployedTexts: () => readMappingTexts(dir),
    compile(texts) {
      const version = mappingSetVersion(texts);
      const kept = compiled.get(version);
      if (kept !== undefined) {
        // Most recently used last, so the oldest is the one dropped.
        compiled.delete(version);
        compiled.set(version, kept);
        return kept;
      }
      const pending = compileNow(texts);
      compiled.set(version, pending);
      void pending.catch(() => compiled.delete(version));
      while (compiled.size > KEPT_SETS) {
        const oldest = compiled.keys().next().value;
        if (oldest === undefined) break;
        compiled.delete(oldest);
      }
      return pending;
    },
  };
}
