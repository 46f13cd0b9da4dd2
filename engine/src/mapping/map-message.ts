/**
 * The mapping entry point: finds the mapping for a message's type and event (and sender) and
 * runs it into a FHIR R4 transaction Bundle with deterministic ids and a Provenance per message.
 */
import type { OperationOutcomeIssue } from '../fhir/operation-outcome';
import { requestExtensions, type RequestExtension } from '../fhir/store-directives';
import { readMessageHeader } from '../hl7/message-header';
import type { Hl7Message } from '../hl7/parse-message';
import { readValue } from '../hl7/read-value';
import { buildElements, type StoreDirectives, evaluateRule } from './evaluate-rule';
import type { ExecState, Instance } from './evaluate-rule';
import { MappingError, MappingErrorCode } from './mapping-error';
import type { CompiledMapping, CompiledResourceRule, MappingSet } from './mapping-types';
import { hashResourceId } from './resource-id';
import { iterateLevels, rootScope } from './scope';
import type { Scope } from './scope';
import { testCondition } from './evaluate-rule';

/** Per message facts the mapping cannot read from the message itself. */
export interface MapContext {
  /** Archive id of the message; Provenance points at it. */
  readonly messageId: string;
  /** When the engine received it (FHIR instant). */
  readonly receivedAt: string;
  /**
   * IANA zone for times sent without an offset when the sender's `sender.yaml` names none
   * (DEFAULT_TIMEZONE, else the host's zone: the caller decides, so mapping stays pure).
   */
  readonly defaultTimezone: string;
}

/** A FHIR R4 transaction Bundle entry that PUTs a resource at its deterministic id. */
export interface BundleEntry {
  readonly fullUrl: string;
  readonly resource: { readonly resourceType: string; readonly id: string } & Record<string, unknown>;
  readonly request: {
    readonly method: 'PUT';
    readonly url: string;
    readonly extension?: readonly RequestExtension[];
  };
}

/** A FHIR R4 transaction Bundle. */
export interface TransactionBundle {
  readonly resourceType: 'Bundle';
  readonly type: 'transaction';
  readonly entry: readonly BundleEntry[];
}

/** The outcome of mapping one message. */
export type MapResult =
  | {
      readonly status: 'mapped';
      readonly bundle: TransactionBundle;
      /** MappingSet.version that produced the bundle. */
      readonly mappingVersion: string;
      /** FHIR dateTime of the event (EVN-2, OBR-7 ...), with the sender's offset. */
      readonly eventTime: string;
      /** The mapping file used. */
      readonly mappingFile: string;
      /** The zone some value was read in because it had no offset; absent when none was. */
      readonly assumedTimezone?: string;
      /** Parts of the message no rule could map (kept on the archive row for the analyst). */
      readonly warnings: readonly OperationOutcomeIssue[];
      /** The name of each segment that was not mapped (one entry per occurrence), for counting. */
      readonly unmappedSegments: readonly string[];
    }
  | {
      readonly status: 'ignored';
      readonly reason: string;
      /** The mapping file that leaves the event unmapped on purpose (`ignore:`), if one does. */
      readonly mappingFile?: string;
      /** That file's `ignore:` reason as written, without the file's name (which depends on the set's). */
      readonly statedReason?: string;
    };

/**
 * The id, or '' when it cannot be built: a required part is empty, or every part is. Without this
 * a patient with no PID-3 would hash to the same id as every other such patient at the facility.
 */
function computeId(rule: CompiledResourceRule, scope: Scope, state: ExecState): string {
  const parts: string[] = [];
  let any = false;
  for (const [i, part] of rule.id.entries()) {
    const v = evaluateRule(part, scope, false, state)[0];
    const text = v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    if (text === '' && rule.idRequired[i] === true) return '';
    if (text !== '') any = true;
    parts.push(text);
  }
  return any ? hashResourceId(rule.resourceType, parts) : '';
}

/** The HL7 location to blame when an id cannot be built: the first empty required part. */
function missingIdLocation(rule: CompiledResourceRule, scope: Scope, state: ExecState): string {
  const blamed =
    rule.id.find(
      (part, i) => rule.idRequired[i] === true && evaluateRule(part, scope, false, state)[0] === undefined,
    ) ?? rule.id[0];
  return blamed?.source.kind === 'path' ? blamed.source.path.text : 'MSH';
}

function collectInstances(
  mapping: CompiledMapping,
  version: string,
  root: Scope,
  state: ExecState,
  reached: Map<string, Set<number>>,
  warnings: OperationOutcomeIssue[],
): Instance[] {
  const all: Instance[] = [];
  for (const rule of mapping.resources) {
    const scopes = iterateLevels(rule.forEach, root);
    if (rule.covers !== undefined) noteReached(reached, rule.covers, scopes);
    for (const scope of scopes) {
      if (rule.when !== undefined && !testCondition(rule.when, scope)) {
        if (rule.warnWhenSkipped !== undefined) {
          warnings.push(skippedWarning(rule, rule.warnWhenSkipped, scope));
        }
        continue;
      }
      const id = state.idOf(rule, scope);
      if (id === '') {
        if (!rule.required) continue;
        throw new MappingError(
          MappingErrorCode.MissingRequired,
          `${rule.resourceType} "${rule.name}" needs an id but a required id location is empty`,
          missingIdLocation(rule, scope, state),
          `${rule.where}.id`,
          { mappingFile: mapping.file, mappingVersion: version },
        );
      }
      all.push({ rule, scope, id, reference: `${rule.resourceType}/${id}` });
    }
  }
  return all;
}

/** The warning for an iteration a rule's `when` skipped, at the group's head segment. */
function skippedWarning(rule: CompiledResourceRule, text: string, scope: Scope): OperationOutcomeIssue {
  const head = scope.own?.[0];
  return {
    severity: 'warning',
    code: MappingErrorCode.RuleSkipped,
    diagnostics: `${rule.resourceType} "${rule.name}" not mapped: ${text}`,
    expression: [head === undefined ? 'MSH' : `${head.name}[segment ${head.index}]`, `${rule.where}.when`],
  };
}

/**
 * A segment a rule `covers` that maps to the same resource as an earlier one (two OBX of one order
 * with the same OBX-3 code and no OBX-4 sub-id): only the first is written, so the later one is
 * said, with both places, rather than lost without a word.
 */
function collapsedWarning(earlier: Instance, later: Instance): OperationOutcomeIssue | undefined {
  const rule = later.rule;
  const a = earlier.scope.own?.[0];
  const b = later.scope.own?.[0];
  if (rule !== earlier.rule || rule.covers === undefined || a === undefined || b === undefined) {
    return undefined;
  }
  if (a.name !== rule.covers || b.name !== rule.covers || a.index === b.index) return undefined;
  return {
    severity: 'warning',
    code: MappingErrorCode.SegmentCollapsed,
    diagnostics: `${b.name} (segment ${b.index} of the message) identifies the same ${rule.resourceType} as ${a.name} (segment ${a.index}), so only the earlier one is mapped (rule "${rule.name}": give each its own code or sub-id)`,
    expression: [`${b.name}[segment ${b.index}]`, `${rule.where}.id`],
  };
}

/**
 * The segments of the covered name a rule's groups own: its heads (each OBX of an Observation) and
 * what they own besides, such as the OBX leading a v2.9 document's TXA.
 */
function noteReached(reached: Map<string, Set<number>>, segment: string, scopes: readonly Scope[]): void {
  const set = reached.get(segment) ?? new Set<number>();
  for (const s of scopes) {
    for (const seg of s.own ?? []) {
      if (seg.name === segment) set.add(seg.index);
    }
  }
  reached.set(segment, set);
}

/**
 * Segments some rule `covers` that lie outside every group the covering rules read (an OBX between
 * ORC and OBR, say). They cannot be mapped, and must not vanish without a trace: each becomes a
 * warning on the message, which the analyst sees with it.
 */
function uncovered(
  mapping: CompiledMapping,
  reached: Map<string, Set<number>>,
  root: Scope,
  missedIndexes: Set<number>,
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const [segment, indexes] of reached) {
    const rules = mapping.resources.filter((r) => r.covers === segment);
    for (const missed of root.message.segments) {
      if (missed.name !== segment || indexes.has(missed.index)) continue;
      missedIndexes.add(missed.index);
      issues.push({
        severity: 'warning',
        code: MappingErrorCode.SegmentNotMapped,
        diagnostics: `${segment} (segment ${missed.index} of the message) is outside every group that ${rules.map((r) => `"${r.name}"`).join(' or ')} reads: not mapped`,
        expression: [`${segment}[segment ${missed.index}]`, `${rules[0]?.where ?? mapping.file}.forEach`],
      });
    }
  }
  return issues;
}

/**
 * Segments no rule read (no field of theirs, no forEach over them) and the mapping does not
 * ignore: nothing is dropped in silence, each is a warning with its place in the message. The
 * header's MSH and EVN count as read: they route the message and date the event.
 */
function unread(mapping: CompiledMapping, root: Scope, listed: Set<number>): OperationOutcomeIssue[] {
  const segments = root.message.segments;
  const header = new Set(['MSH', 'EVN'].map((name) => segments.find((seg) => seg.name === name)?.index));
  const issues: OperationOutcomeIssue[] = [];
  for (const seg of segments) {
    if (root.read[seg.index] === 1 || listed.has(seg.index) || header.has(seg.index)) continue;
    if (mapping.ignoreSegments.has(seg.name)) continue;
    listed.add(seg.index);
    issues.push({
      severity: 'warning',
      code: MappingErrorCode.SegmentNotMapped,
      diagnostics: `segment ${seg.name} (segment ${seg.index} of the message) is not mapped: no rule of ${mapping.file} reads it (list it under ignoreSegments: with a reason if that is intended)`,
      expression: [`${seg.name}[segment ${seg.index}]`, mapping.file],
    });
  }
  return issues;
}

/**
 * Runs a compiled mapping on a message.
 * @param timezone - IANA zone its times without an offset are read in (the sender's, else the
 *   default)
 */
export function executeMapping(
  mapping: CompiledMapping,
  message: Hl7Message,
  version: string,
  ctx: Omit<MapContext, 'defaultTimezone'>,
  timezone: string,
): MapResult {
  const root = rootScope(message);
  const instances = new Map<string, Instance[]>();
  const rules = new Map(mapping.resources.map((r) => [r.name, r]));
  const context: ExecState['context'] = { messageId: ctx.messageId, receivedAt: ctx.receivedAt };
  const noteZoneAssumed = (): void => {
    context.assumedTimezone = timezone;
  };
  const state: ExecState = {
    convert: { tables: mapping.tables, timezone, noteZoneAssumed },
    context,
    instances,
    all: [],
    rules,
    idOf: (rule, scope) => computeId(rule, scope, state),
  };
  const eventTime =
    mapping.eventTime.map((r) => evaluateRule(r, root, false, state)[0]).find((v) => typeof v === 'string') ??
    ctx.receivedAt;
  state.context.eventTime = eventTime;
  const reached = new Map<string, Set<number>>();
  const skipped: OperationOutcomeIssue[] = [];
  const all = collectInstances(mapping, version, root, state, reached, skipped);
  for (const i of all) {
    const list = instances.get(i.rule.name);
    if (list === undefined) instances.set(i.rule.name, [i]);
    else list.push(i);
  }
  const full: ExecState = { ...state, all };
  const first = new Map<string, Instance>();
  const built = new Map<Instance, BundleEntry>();
  const collapsed: OperationOutcomeIssue[] = [];
  const emitted = all.filter((inst) => {
    const earlier = first.get(inst.reference);
    if (earlier !== undefined) {
      const twin = collapsedWarning(earlier, inst);
      if (twin !== undefined) collapsed.push(twin);
      return false;
    }
    if (inst.rule.referenceOnly) return false;
    first.set(inst.reference, inst);
    return true;
  });
  // Which zone was assumed is known once every other resource has read its times: the rules that
  // record it (the Provenance) are built last, and the Bundle keeps the rules' order.
  const last = (i: Instance): boolean => i.rule.readsAssumedZone === true;
  for (const inst of [...emitted.filter((i) => !last(i)), ...emitted.filter(last)]) {
    built.set(inst, buildEntry(inst, full));
  }
  const entry = emitted.map((inst) => built.get(inst)).filter((e): e is BundleEntry => e !== undefined);
  // After every rule ran: only then is it known which segments none of them read.
  const listed = new Set<number>();
  const warnings = [
    ...skipped,
    ...collapsed,
    ...uncovered(mapping, reached, root, listed),
    ...unread(mapping, root, listed),
  ];
  const unmappedSegments = [...listed].sort((a, b) => a - b).map((i) => message.segments[i - 1]?.name ?? '');
  return {
    status: 'mapped',
    bundle: { resourceType: 'Bundle', type: 'transaction', entry },
    mappingVersion: version,
    eventTime,
    mappingFile: mapping.file,
    warnings,
    ...(context.assumedTimezone !== undefined ? { assumedTimezone: context.assumedTimezone } : {}),
    unmappedSegments,
  };
}

function buildEntry(inst: Instance, state: ExecState): BundleEntry {
  const directives: StoreDirectives = { keepStored: [], clear: [] };
  const body = buildElements(inst.rule.elements, inst.scope, state, inst, directives);
  const resource = { resourceType: inst.rule.resourceType, id: inst.id, ...body };
  const expected =
    inst.rule.expectStored.length > 0 ? buildElements(inst.rule.expectStored, inst.scope, state, inst) : {};
  const extension = requestExtensions(inst.rule.update, directives, inst.rule.merge, expected);
  const request = {
    method: 'PUT' as const,
    url: inst.reference,
    ...(extension.length > 0 ? { extension } : {}),
  };
  return { fullUrl: inst.reference, resource, request };
}

/**
 * Maps a parsed message with a mapping set. Returns `ignored` when no mapping covers its type and
 * event; throws MappingError (with an OperationOutcome) when a mapping cannot be applied.
 */
export function mapMessage(message: Hl7Message, set: MappingSet, ctx: MapContext): MapResult {
  const header = readMessageHeader(message);
  const triggerEvent = header.triggerEvent !== '' ? header.triggerEvent : (readValue(message, 'EVN-1') ?? '');
  const key = { ...header, triggerEvent };
  const mapping = set.findMapping(key);
  const typeEvent = `${header.messageType}^${triggerEvent}`;
  if (mapping === undefined) return { status: 'ignored', reason: `no mapping for ${typeEvent}` };
  if (mapping.ignore !== undefined) {
    return {
      status: 'ignored',
      reason: `${typeEvent} is not mapped on purpose (${mapping.file}): ${mapping.ignore}`,
      mappingFile: mapping.file,
      statedReason: mapping.ignore,
    };
  }
  return executeMapping(mapping, message, set.version, ctx, set.findTimezone(key) ?? ctx.defaultTimezone);
}
