/**
 * The cause of a failed message as one stable key, so the errors view groups a hundred messages
 * that failed for one reason (one rule, one HL7 location) into one line an analyst fixes once,
 * whatever patients they were about. Values are taken out of the message before it is keyed.
 */
import { createHash } from 'node:crypto';

/** A failure's cause, read from the archive's `error` JSON. */
export interface FailureCause {
  readonly code: string;
  /** The location at fault: an HL7 location (`OBX-3.1`), or a FHIR path for a store refusal. */
  readonly location?: string;
  /** The mapping rule, `<file>#<resource rule>.<element>`. */
  readonly rule?: string;
  /** The diagnostics with quoted text, numbers and trailing values replaced. */
  readonly message: string;
}

/** Length of an error key: 64 bits of SHA-256 in hex, ample for the causes one archive holds. */
export const ERROR_KEY_LENGTH = 16;
export const ERROR_KEY_RE = /^[0-9a-f]{16}$/;

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The first issue's `expression` of an OperationOutcome kept as `detail`: a MappingError's is
 * `[location, rule]` (rows written before `location` and `rule` were stored on their own).
 */
function detailExpression(detail: unknown): readonly string[] {
  const issue = (detail as { issue?: { expression?: unknown }[] } | null | undefined)?.issue?.[0];
  const expression = issue?.expression;
  return Array.isArray(expression) ? expression.filter((e): e is string => typeof e === 'string') : [];
}

/** Reads the cause out of a stored error; undefined when it is no error object. */
export function failureCause(error: unknown): FailureCause | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Record<string, unknown>;
  const code = text(e['code']) ?? 'unknown';
  const [detailLocation, detailRule] = detailExpression(e['detail']);
  const location = text(e['location']) ?? detailLocation;
  const rule = text(e['rule']) ?? (detailRule?.includes('#') === true ? detailRule : undefined);
  return {
    code,
    ...(location !== undefined ? { location } : {}),
    ...(rule !== undefined ? { rule } : {}),
    message: normalizeErrorMessage(text(e['diagnostics']) ?? text(e['message']) ?? ''),
  };
}

/** An HL7 location in a message (`OBX-3.1`, `PID-3[2].4`): its numbers are the cause, not values. */
const LOCATION_OR_NUMBER = /(\b[A-Z][A-Z0-9]{2}-\d+(?:\[\d+\])?(?:\.\d+){0,2}\b)|\d+/g;

/**
 * The diagnostics without the values one message has and the next does not: quoted text, what
 * follows `: ` or `got` at the end, and numbers other than those of HL7 locations. Rule names in
 * quotes go too; the rule is part of the key on its own.
 */
export function normalizeErrorMessage(message: string): string {
  return (message.split(/\r\n|\r|\n/)[0] ?? '')
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '…')
    .replace(/(:\s+|\bgot\s+)\S.*$/, '$1…')
    .replace(LOCATION_OR_NUMBER, (match, location: string | undefined) => location ?? '#')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** The stable key of a cause: the same code, location, rule and message give the same key. */
export function errorKeyOf(cause: FailureCause): string {
  // Indexes in a location (`Bundle.entry[3]`) differ from message to message; positions do not.
  const location = (cause.location ?? '').replace(/\[\d+\]/g, '[#]');
  return createHash('sha256')
    .update([cause.code, location, cause.rule ?? '', cause.message].join('\u0000'))
    .digest('hex')
    .slice(0, ERROR_KEY_LENGTH);
}

/** The key of a stored error, or undefined when there is no error. */
export function errorKeyOfError(error: unknown): string | undefined {
  const cause = failureCause(error);
  return cause === undefined ? undefined : errorKeyOf(cause);
}
