/**
 * FHIR OperationOutcome as the one shape every failure takes over HTTP, after medplum's
 * outcomes: handlers build an outcome, `sendOutcome` picks the status from its code.
 */
import type { Response } from 'express';

export interface OperationOutcomeIssue {
  readonly severity: 'fatal' | 'error' | 'warning' | 'information';
  readonly code: string;
  readonly diagnostics?: string;
  /** HL7 or FHIRPath locations, e.g. `PID-3.1` or `mappings/adt-a01.yaml#patient.identifier`. */
  readonly expression?: readonly string[];
}

export interface OperationOutcome {
  readonly resourceType: 'OperationOutcome';
  readonly issue: readonly OperationOutcomeIssue[];
}

/** Builds a one-issue outcome. */
export function outcome(
  code: string,
  diagnostics: string,
  severity: OperationOutcomeIssue['severity'] = 'error',
  expression?: readonly string[],
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity, code, diagnostics, ...(expression !== undefined ? { expression } : {}) }],
  };
}

const STATUS_BY_CODE: Record<string, number> = {
  'not-found': 404,
  deleted: 410,
  login: 401,
  security: 403,
  forbidden: 403,
  invalid: 400,
  structure: 400,
  required: 400,
  value: 400,
  'not-supported': 400,
  conflict: 409,
  duplicate: 409,
  'too-costly': 413,
  transient: 503,
  timeout: 503,
  exception: 500,
};

/** The HTTP status an outcome stands for. */
export function getStatus(o: OperationOutcome): number {
  const first = o.issue[0];
  if (first === undefined || first.severity === 'information' || first.severity === 'warning') return 200;
  return STATUS_BY_CODE[first.code] ?? 500;
}

/** Sends an outcome with its status; `status` overrides when the code is ambiguous. */
export function sendOutcome(res: Response, o: OperationOutcome, status?: number): void {
  res
    .status(status ?? getStatus(o))
    .type('application/fhir+json')
    .json(o);
}
