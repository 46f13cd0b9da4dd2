/**
 * The engine's verdict on a mapping set (a 422 from a dry run or a deploy) turned into problems at
 * lines of the file being edited, so they show in the editor where the fix goes. The engine names
 * a file as `<file>:<line>`, possibly under the mappings directory's own name
 * (`mappings/rules/patient.yaml:14#patient.id`); problems in other files are listed apart.
 */
import type { ApiIssue } from '../api/api-error';

export interface LineProblem {
  /** 1-based; undefined when the engine named the file but no line. */
  readonly line?: number;
  readonly message: string;
}

export interface ElsewhereProblem extends LineProblem {
  /** The file as the engine named it; undefined when it named none. */
  readonly file?: string;
}

export interface FileProblems {
  readonly here: readonly LineProblem[];
  readonly elsewhere: readonly ElsewhereProblem[];
}

export interface FileReference {
  readonly file: string;
  readonly line?: number;
  readonly rule?: string;
}

/** `file[:line][#rule]`, or undefined when the text names no mapping file. */
export function parseFileReference(text: string): FileReference | undefined {
  const m = /^(.+?\.(?:ya?ml|csv))(?::(\d+))?(?:#(.+))?$/.exec(text.trim());
  if (m === null || m[1] === undefined) return undefined;
  return {
    file: m[1],
    ...(m[2] !== undefined ? { line: Number(m[2]) } : {}),
    ...(m[3] !== undefined ? { rule: m[3] } : {}),
  };
}

/** True when the engine's file name is this mapping path (as is, or under the directory's name). */
export function sameMappingFile(named: string, path: string): boolean {
  return named === path || named.endsWith(`/${path}`);
}

/** The mapping path among `paths` an engine file name stands for; the longest match wins. */
export function matchMappingPath(named: string, paths: readonly string[]): string | undefined {
  return paths.filter((p) => sameMappingFile(named, p)).sort((a, b) => b.length - a.length)[0];
}

/** The issues of a failed dry run or deploy, split into this file's (by line) and the rest. */
export function problemsForFile(issues: readonly ApiIssue[], path: string): FileProblems {
  const here: LineProblem[] = [];
  const elsewhere: ElsewhereProblem[] = [];
  for (const issue of issues) {
    const message = issue.diagnostics ?? issue.code;
    const ref = [...(issue.location ?? []), ...(issue.expression ?? [])]
      .map(parseFileReference)
      .find((r) => r !== undefined);
    if (ref !== undefined && sameMappingFile(ref.file, path)) {
      here.push({ ...(ref.line !== undefined ? { line: ref.line } : {}), message });
    } else {
      elsewhere.push({
        ...(ref !== undefined ? { file: ref.file } : {}),
        ...(ref?.line !== undefined ? { line: ref.line } : {}),
        message,
      });
    }
  }
  return { here, elsewhere };
}
