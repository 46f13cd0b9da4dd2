/**
 * `GET /api/messages/{id}`: one archived message the way an analyst reads it: the row, its
 * segments labelled and decoded, the FHIR it produced, the notices it caused, and its errors and
 * warnings each with the HL7 location and mapping rule, beside the mapping version and file.
 */
import { decodeMessage } from '../hl7/decode-message';
import { isHl7ParseError } from '../hl7/hl7-error';
import { labelSegments, type LabelledSegment } from '../hl7/label-segments';
import { parseHl7 } from '../hl7/parse-message';
import type { Queryable } from '../store/db';
import { failureCause } from '../store/error-key';
import type { ArchivedMessage } from '../store/message-archive';
import { listMessageNotices } from '../store/message-notices';
import { readMessageResources, type StoredSummary } from '../store/message-resources';

/** An error or warning of a message, as an OperationOutcome issue with its mapping rule beside. */
export interface MessageIssue {
  readonly severity: 'error' | 'warning' | 'information';
  readonly code: string;
  readonly diagnostics: string;
  /** The HL7 location (`PID-3.1`), or the FHIR path of a store refusal. */
  readonly expression?: readonly string[];
  /** `<file>#<resource rule>.<element>`. */
  readonly rule?: string;
}

type Json = Record<string, unknown>;

function asObject(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The issue a stored failure amounts to (a `failed` or `rejected` row's `error`). */
function errorIssue(error: unknown): MessageIssue | undefined {
  const cause = failureCause(error);
  const e = asObject(error);
  if (cause === undefined || e === undefined) return undefined;
  // A MappingError's outcome says it without the "(location, rule)" its message appends.
  const first = asObject((asObject(e['detail'])?.['issue'] as unknown[] | undefined)?.[0]);
  const diagnostics = text(first?.['diagnostics']) ?? text(e['diagnostics']) ?? cause.code;
  return {
    severity: 'error',
    code: cause.code,
    diagnostics,
    ...(cause.location !== undefined ? { expression: [cause.location] } : {}),
    ...(cause.rule !== undefined ? { rule: cause.rule } : {}),
  };
}

/** Mapping warnings kept on the row (`output.warnings`: expression `[location, rule]`). */
function warningIssues(output: Json | undefined): MessageIssue[] {
  const warnings = output?.['warnings'];
  if (!Array.isArray(warnings)) return [];
  return warnings.flatMap((w): MessageIssue[] => {
    const o = asObject(w);
    if (o === undefined) return [];
    const expression = Array.isArray(o['expression'])
      ? o['expression'].filter((x): x is string => typeof x === 'string')
      : [];
    const [location, rule] = expression;
    const severity = o['severity'] === 'error' || o['severity'] === 'information' ? o['severity'] : 'warning';
    return [
      {
        severity,
        code: text(o['code']) ?? 'processing',
        diagnostics: text(o['diagnostics']) ?? '',
        ...(location !== undefined ? { expression: [location] } : {}),
        ...(rule !== undefined ? { rule } : {}),
      },
    ];
  });
}

/** Every error, warning and note a message's row holds. */
export function messageIssues(m: Pick<ArchivedMessage, 'status' | 'error' | 'output'>): MessageIssue[] {
  const output = asObject(m.output);
  const issues: MessageIssue[] = [];
  const error = m.error === null || m.error === undefined ? undefined : errorIssue(m.error);
  if (error !== undefined) issues.push(error);
  issues.push(...warningIssues(output));
  const reason = text(output?.['reason']);
  if (m.status === 'ignored' && reason !== undefined) {
    issues.push({ severity: 'information', code: 'not-mapped', diagnostics: reason });
  }
  return issues;
}

/** The mapping file that produced the output, or failed: a processed row's, or its error's. */
export function mappingFileOf(m: Pick<ArchivedMessage, 'error' | 'output'>): string | null {
  return text(asObject(m.output)?.['mappingFile']) ?? text(asObject(m.error)?.['mappingFile']) ?? null;
}

/** The labelled segments; none when the text does not parse (some rejected frames). */
function segmentsOf(text: string): LabelledSegment[] {
  try {
    return labelSegments(parseHl7(text));
  } catch (err) {
    if (isHl7ParseError(err)) return [];
    throw err;
  }
}

function storedSummaryOf(output: unknown): StoredSummary | undefined {
  const stored = (output as { stored?: StoredSummary } | null)?.stored;
  return stored !== undefined && Array.isArray(stored.written) ? stored : undefined;
}

/** The whole view of one message. */
export async function buildMessageView(db: Queryable, m: ArchivedMessage): Promise<Json> {
  const { raw, ...rest } = m;
  const stored = storedSummaryOf(m.output);
  const [fhir, notifications] = await Promise.all([
    stored === undefined ? [] : readMessageResources(db, m.id, stored),
    listMessageNotices(db, m.id),
  ]);
  const decoded = decodeMessage(raw).text;
  return {
    ...rest,
    type: m.messageType === null ? null : [m.messageType, m.triggerEvent].filter(Boolean).join('^'),
    raw: decoded,
    mappingFile: mappingFileOf(m),
    fhir: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: fhir.map((r) => ({ resource: r.resource })),
    },
    segments: segmentsOf(decoded),
    notifications,
    issues: messageIssues(m),
  };
}
