/**
 * OperationOutcome over HTTP: handlers build an outcome (fhir/operation-outcome.ts), and
 * `sendOutcome` picks the status from its code.
 */
import type { Response } from 'express';
import type { OperationOutcome } from '../fhir/operation-outcome';

export { outcome, type OperationOutcome, type OperationOutcomeIssue } from '../fhir/operation-outcome';

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
