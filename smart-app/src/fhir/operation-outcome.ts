/**
 * The engine's failures as FHIR OperationOutcome issues, read field by field: the timeline's
 * source and the analyst console both show the engine's words rather than a bare status. FHIR lets
 * `details.text` stand in for `diagnostics`; anything that is not an OperationOutcome (a proxy's
 * error page) has no issues.
 */

/** One OperationOutcome issue as the apps read it. */
export interface OutcomeIssue {
  readonly severity: string;
  readonly code: string;
  readonly diagnostics?: string;
  readonly expression?: readonly string[];
  readonly location?: readonly string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): readonly string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : undefined;
}

/** The issues of an OperationOutcome body; none when the body is something else. */
export function outcomeIssues(body: unknown): OutcomeIssue[] {
  if (!isRecord(body) || body['resourceType'] !== 'OperationOutcome' || !Array.isArray(body['issue'])) {
    return [];
  }
  return body['issue'].filter(isRecord).map((i) => {
    const details = isRecord(i['details']) ? i['details']['text'] : undefined;
    const diagnostics = typeof i['diagnostics'] === 'string' ? i['diagnostics'] : details;
    const expression = strings(i['expression']);
    const location = strings(i['location']);
    return {
      severity: typeof i['severity'] === 'string' ? i['severity'] : 'error',
      code: typeof i['code'] === 'string' ? i['code'] : 'exception',
      ...(typeof diagnostics === 'string' ? { diagnostics } : {}),
      ...(expression !== undefined ? { expression } : {}),
      ...(location !== undefined ? { location } : {}),
    };
  });
}

/** The first sentence the outcome gives a person, if any. */
export function outcomeText(body: unknown): string | undefined {
  return outcomeIssues(body).find((i) => i.diagnostics !== undefined)?.diagnostics;
}
