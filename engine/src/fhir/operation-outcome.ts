/**
 * FHIR OperationOutcome: the one shape every failure takes, from a mapping error to an HTTP 404.
 * Pure, so the mapping core and the HTTP edge share it (after medplum's outcomes).
 */

export interface OperationOutcomeIssue {
  readonly severity: 'fatal' | 'error' | 'warning' | 'information';
  readonly code: string;
  readonly diagnostics?: string;
  /**
   * Where in a text the issue is, as R4's `issue.location` (deprecated there for FHIRPath, still
   * the place for a line in a file): the mapping API's `rules/patient.yaml:12`.
   */
  readonly location?: readonly string[];
  /** HL7 or FHIRPath locations, e.g. `PID-3.1` or `mappings/adt.yaml#patient.id`. */
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
