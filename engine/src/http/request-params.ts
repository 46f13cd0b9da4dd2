/**
 * Checks request parameters at the HTTP edge, before anything reaches the store: an id beyond
 * PostgreSQL's bigint or a NUL byte (which PostgreSQL text cannot hold) would otherwise fail
 * inside SQL as a 500. Schemas are zod, as in config/schema.ts; every failure is one 400
 * OperationOutcome with an issue per problem, each naming its parameter in `expression`.
 */
import type { Response } from 'express';
import { z } from 'zod';
import type { OperationOutcome, OperationOutcomeIssue } from './operation-outcome';
import { sendOutcome } from './operation-outcome';

/** Largest PostgreSQL bigint: message ids are bigints. */
export const MAX_MESSAGE_ID = 2n ** 63n - 1n;

/** Longest text filter the admin API takes (MSH-3^MSH-4 is at most 2 × 227 characters). */
export const MAX_FILTER_LENGTH = 512;

/** FHIR `id`: 1 to 64 of letters, digits, `-` and `.`. */
export const FHIR_ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * True when `s` holds a C0 control character (U+0000 to U+001F) or DEL. No identifier, code,
 * name or date a client searches by contains one, and PostgreSQL refuses NUL in text outright.
 */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * One query or path value: a string given once. The `simple` query parser turns a repeated
 * parameter into an array, which is a mistake here, not a list.
 */
const single = (): z.ZodString =>
  z.string({ error: (iss) => (Array.isArray(iss.input) ? 'must be given at most once' : 'must be text') });

/** Text without control characters, 1 to `max` characters. */
export function safeText(max: number): z.ZodType<string, string> {
  return single()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !hasControlCharacter(v), 'must not contain control characters');
}

/** A message id in canonical decimal form, 1 to 9223372036854775807 (bigint). */
const MESSAGE_ID_RE = /^[1-9]\d{0,18}$/;
export const messageId = single()
  .regex(MESSAGE_ID_RE, `must be a message id: a whole number from 1 to ${MAX_MESSAGE_ID}`)
  // zod runs every check even after one failed: BigInt() only on what the pattern let through.
  .refine((v) => !MESSAGE_ID_RE.test(v) || BigInt(v) <= MAX_MESSAGE_ID, `must be at most ${MAX_MESSAGE_ID}`);

/** A whole number in plain decimal (no sign, exponent, hex or spaces) from `min` to `max`. */
export function decimalInt(min: number, max: number): z.ZodType<number, string> {
  const message = `must be a whole number from ${min} to ${max}`;
  return single()
    .regex(/^\d{1,15}$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message));
}

const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/** An ISO 8601 date (`2024-05-01`) or date-time with offset; impossible dates are refused. */
export const isoInstant = single()
  .refine(
    (v) => isoDateTime.safeParse(v).success || isoDate.safeParse(v).success,
    'must be a date (YYYY-MM-DD) or a date-time with offset (2024-05-01T08:00:00Z)',
  )
  .transform((v) => new Date(v))
  .refine((d) => !Number.isNaN(d.getTime()), 'must be a date that exists');

/** One OperationOutcome issue per zod issue, each naming its parameter. */
export function issuesOf(error: z.ZodError): OperationOutcomeIssue[] {
  return error.issues.flatMap((i): OperationOutcomeIssue[] => {
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((key) => invalidIssue(key, 'is not a parameter of this endpoint'));
    }
    return [invalidIssue(i.path.map(String).join('.'), i.message)];
  });
}

/** An `invalid` error issue about `param`. */
export function invalidIssue(param: string, problem: string): OperationOutcomeIssue {
  return {
    severity: 'error',
    code: 'invalid',
    diagnostics: `${param}: ${problem}`,
    expression: [param],
  };
}

/** A 400 OperationOutcome holding every issue. */
export function invalidRequest(issues: readonly OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

/**
 * Parses `input` with `schema`; on failure answers 400 itself and returns undefined.
 * @param input - `req.query` or `req.params`.
 */
export function parseParams<T>(res: Response, schema: z.ZodType<T>, input: unknown): T | undefined {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  sendOutcome(res, invalidRequest(issuesOf(parsed.error)), 400);
  return undefined;
}

/**
 * FHIR search parameters, as received (name/value pairs; repeats are meaningful in FHIR):
 * refuses control characters in any name or value, answering 400 itself.
 * @returns false after answering.
 */
export function checkFhirQuery(res: Response, pairs: Iterable<readonly [string, string]>): boolean {
  const issues: OperationOutcomeIssue[] = [];
  for (const [name, value] of pairs) {
    if (hasControlCharacter(name)) {
      issues.push(invalidIssue(name, 'parameter name holds control characters'));
    } else if (hasControlCharacter(value)) {
      issues.push(invalidIssue(name, 'value must not contain control characters'));
    }
  }
  if (issues.length === 0) return true;
  sendOutcome(res, invalidRequest(issues), 400);
  return false;
}

/**
 * Path parameters of /fhir: the id (and version id) must be FHIR ids. Checked before the type is
 * looked up, so a malformed id is 400 whatever the type.
 */
export const fhirPathParams = z.object({
  id: z.string().regex(FHIR_ID_RE, 'must be a FHIR id: 1 to 64 of A-Z, a-z, 0-9, "-" and "."').optional(),
  vid: z
    .string()
    .regex(FHIR_ID_RE, 'must be a FHIR version id: 1 to 64 of A-Z, a-z, 0-9, "-" and "."')
    .optional(),
});
