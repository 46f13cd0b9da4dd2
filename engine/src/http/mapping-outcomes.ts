/**
 * How the mapping API answers about mapping files: problems found loading a set become one 422
 * OperationOutcome issue each, with `location` `<file>:<line>` (the file relative to
 * MAPPINGS_DIR) for an editor's markers; a bad path is a 400 naming it.
 */
import type { Response } from 'express';
import { formatProblem, type MappingProblem } from '../mapping/mapping-error';
import { outcome, sendOutcome, type OperationOutcome, type OperationOutcomeIssue } from './operation-outcome';

/** One issue per problem, `location` `["<file>:<line>"]` (or `["<file>"]` without a line). */
export function problemIssues(problems: readonly MappingProblem[]): OperationOutcomeIssue[] {
  return problems.map((p): OperationOutcomeIssue => {
    const where = p.line !== undefined ? `${p.file}:${p.line}` : p.file;
    return {
      severity: 'error',
      code: 'invalid',
      diagnostics: formatProblem(p),
      location: [where],
      ...(p.rule !== undefined ? { expression: [`${where}#${p.rule}`] } : {}),
    };
  });
}

/**
 * The set these files make does not load; nothing was written.
 * @param lead - a first issue saying what the problems are about.
 * @param status - @defaultValue 422
 */
export function sendProblems(
  res: Response,
  problems: readonly MappingProblem[],
  lead?: string,
  status = 422,
): void {
  const issues = problemIssues(problems);
  const body: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: lead === undefined ? issues : [...outcome('invalid', lead).issue, ...issues],
  };
  sendOutcome(res, body, status);
}

/** 400: the path given as `param` is none the mapping API reads or writes. */
export function sendBadPath(res: Response, reason: string, param = 'path'): void {
  sendOutcome(res, outcome('invalid', `${param}: ${reason}`, 'error', [param]), 400);
}
