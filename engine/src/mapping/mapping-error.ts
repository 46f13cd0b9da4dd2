/**
 * Mapping failures as typed values. Interface analysts read these, so every issue names the HL7
 * location and the mapping file and rule; the shape matches FHIR OperationOutcome.
 */
import { CodedError, errorGuard } from '../errors/coded-error';
import type { OperationOutcome, OperationOutcomeIssue } from '../fhir/operation-outcome';

/** Why a mapping set could not be loaded or a message could not be mapped. */
export const MappingErrorCode = {
  InvalidYaml: 'invalid-yaml',
  SchemaViolation: 'schema-violation',
  UnknownTable: 'unknown-table',
  BadPath: 'bad-hl7-path',
  /** A well-formed location the standard does not have (`PDI-5`, `PID-555`, `PID-5.44`). */
  UnknownLocation: 'unknown-hl7-location',
  UnknownFhirType: 'unknown-fhir-type',
  UnknownElement: 'unknown-element',
  UnsupportedConversion: 'unsupported-conversion',
  UnknownRule: 'unknown-rule',
  DuplicateRule: 'duplicate-rule',
  MissingInclude: 'missing-include',
  BadTable: 'bad-code-table',
  MissingRequired: 'missing-required',
  SegmentNotMapped: 'segment-not-mapped',
  UnknownTimeZone: 'unknown-time-zone',
  /** A group a rule's `when` skipped, with the rule's `warnWhenSkipped` reason (a warning). */
  RuleSkipped: 'rule-skipped',
  /** A covered segment that identifies the same resource as an earlier one: not mapped (a warning). */
  SegmentCollapsed: 'segment-collapsed',
} as const;
export type MappingErrorCode = (typeof MappingErrorCode)[keyof typeof MappingErrorCode];

/** Mapping errors are reported as FHIR OperationOutcomes. */
export type MappingOutcome = OperationOutcome;
export type MappingOutcomeIssue = OperationOutcomeIssue;

/** One problem found while loading mapping files. */
export interface MappingProblem {
  readonly code: MappingErrorCode;
  /** Path relative to the mappings directory's parent, e.g. `mappings/adt.yaml`. */
  readonly file: string;
  /** 1-based line, when the problem points at a node. */
  readonly line?: number;
  /** `<resource rule>.<element>`, when the problem is inside a rule. */
  readonly rule?: string;
  readonly message: string;
}

/** Renders a problem as `file:line rule: message`. */
export function formatProblem(p: MappingProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}` : p.file;
  return `${where}${p.rule !== undefined ? ` (${p.rule})` : ''}: ${p.message} [${p.code}]`;
}

/** Thrown by loadMappingSet with every problem found, so an analyst fixes them in one pass. */
export class MappingLoadError extends CodedError<'mapping-load-failed'> {
  override readonly name = 'MappingLoadError';
  readonly problems: readonly MappingProblem[];
  constructor(problems: readonly MappingProblem[]) {
    super(
      'mapping-load-failed',
      `${problems.length} problem(s) in mapping files:\n${problems.map(formatProblem).join('\n')}`,
    );
    this.problems = problems;
  }

  /** The problems as an OperationOutcome, one issue each. */
  get outcome(): MappingOutcome {
    return {
      resourceType: 'OperationOutcome',
      issue: this.problems.map((p) => ({
        severity: 'error',
        code: 'invalid',
        diagnostics: formatProblem(p),
        expression: [
          `${p.file}${p.line !== undefined ? `:${p.line}` : ''}${p.rule !== undefined ? `#${p.rule}` : ''}`,
        ],
      })),
    };
  }
}

/** Which mapping was running when a message failed, kept on the archive row with the error. */
export interface MappingErrorContext {
  /** The mapping file for the message's type, e.g. `mappings/oru-r01.yaml`. */
  readonly mappingFile?: string;
  /** MappingSet.version of the set that failed. */
  readonly mappingVersion?: string;
}

/** Thrown by mapMessage when a message cannot be mapped; unrecoverable, so the job is not retried. */
export class MappingError extends CodedError<MappingErrorCode> {
  override readonly name = 'MappingError';
  readonly outcome: MappingOutcome;
  /** The HL7 location at fault, e.g. `OBX-3.1`. */
  readonly location: string;
  /** The mapping rule that failed, `<file>#<resource rule>.<element>`. */
  readonly rule: string;
  readonly mappingFile: string | undefined;
  readonly mappingVersion: string | undefined;
  constructor(
    code: MappingErrorCode,
    message: string,
    hl7Location: string,
    rule: string,
    context: MappingErrorContext = {},
  ) {
    super(code, `${message} (${hl7Location}, ${rule})`);
    this.location = hl7Location;
    this.rule = rule;
    this.mappingFile = context.mappingFile;
    this.mappingVersion = context.mappingVersion;
    this.outcome = {
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'error', code: 'processing', diagnostics: message, expression: [hl7Location, rule] },
      ],
    };
  }
}

/** True for a MappingError even after it lost its prototype (worker threads, Redis). */
export const isMappingError = errorGuard<MappingError>('MappingError');

/** True for a MappingLoadError even after it lost its prototype. */
export const isMappingLoadError = errorGuard<MappingLoadError>('MappingLoadError');
