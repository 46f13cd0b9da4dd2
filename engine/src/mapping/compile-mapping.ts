/**
 * Compiles one mapping (a message type, its events and its resource rules, with any sender
 * layers applied) into the structures execution walks.
 */
import { at, checkSegment, compileCondition, compileLevels } from './compile-context';
import type { CompileContext, RuleSite } from './compile-context';
import { compileMerges } from './compile-merge';
import { compileElements, compileRule } from './compile-rule';
import type { RuleNames, UnavailableRules } from './compile-rule';
import type { BoundType } from './check-location';
import { MappingErrorCode } from './mapping-error';
import type { CompiledElement, CompiledMapping, CompiledResourceRule, CompiledRule } from './mapping-types';
import type { RawOrigin, RawResource, RawResourceEntry, RawRule } from './raw-mapping';

/** A mapping to compile: base resource rules with sender layers already stacked per name. */
export interface MappingSource {
  readonly file: string;
  readonly messageType: string;
  readonly events: readonly string[];
  /** `ignore:` of the file: the events are left unmapped on purpose, for this reason. */
  readonly ignore?: string;
  readonly sender?: string;
  readonly eventTime?: { readonly rules: readonly RawRule[]; readonly origin: RawOrigin };
  /** One entry per resource rule name: its layers, base first. */
  readonly resources: readonly (readonly RawResourceEntry[])[];
  /** Rules the mapping's failed files (itself, includes, overrides) would have defined. */
  readonly unavailable?: UnavailableRules;
  /** `ignoreSegments:` entries, the base mapping's first, then the sender file's. */
  readonly ignoreSegments?: readonly IgnoredSegment[];
}

/** One `ignoreSegments:` entry as written. */
export interface IgnoredSegment {
  readonly name: string;
  readonly reason: string;
  readonly origin: RawOrigin;
}

function lastDefined<K extends keyof RawResource>(
  layers: readonly RawResourceEntry[],
  key: K,
): { value: NonNullable<RawResource[K]>; origin: RawOrigin } | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    const value = layer?.raw[key];
    if (layer !== undefined && value !== undefined && value !== null) return { value, origin: layer.origin };
  }
  return undefined;
}

function siteOf(origin: RawOrigin, rule: string, bound: boolean, boundType?: BoundType): RuleSite {
  return { origin, rule, bound, ...(boundType !== undefined ? { boundType } : {}) };
}

/** True when a rule, its fallbacks or the objects it builds read `context: assumedTimezone`. */
function readsAssumedZone(rule: CompiledRule): boolean {
  const s = rule.source;
  if (s.kind === 'context' && s.key === 'assumedTimezone') return true;
  if (s.kind === 'object' && s.elements.some((e) => e.rules.some(readsAssumedZone))) return true;
  return rule.otherwise !== undefined && readsAssumedZone(rule.otherwise);
}

/** Compiles one resource rule from its layers; undefined when it has errors (reported). */
export function compileResource(
  layers: readonly RawResourceEntry[],
  ctx: CompileContext & RuleNames,
): CompiledResourceRule | undefined {
  const first = layers[0];
  if (first === undefined) return undefined;
  const name = first.raw.name;
  const type = lastDefined(layers, 'type');
  if (type === undefined || !ctx.schema.isResourceType(type.value)) {
    const why = type === undefined ? 'has no type:' : `type "${type.value}" is not a FHIR R4 resource type`;
    ctx.report(
      MappingErrorCode.UnknownFhirType,
      `resource rule "${name}" ${why}`,
      type !== undefined
        ? { file: type.origin.file, pointer: [...type.origin.pointer, 'type'] }
        : first.origin,
      name,
    );
    return undefined;
  }
  const forEach = lastDefined(layers, 'forEach');
  const { levels, bound, boundType } = forEach
    ? compileLevels(forEach.value, at(siteOf(forEach.origin, name, false), 'forEach'), ctx)
    : { levels: [], bound: false, boundType: undefined };
  const when = lastDefined(layers, 'when');
  const whenCompiled = when
    ? compileCondition(when.value, at(siteOf(when.origin, name, bound, boundType), 'when'), ctx)
    : undefined;
  const coversAt = lastDefined(layers, 'covers');
  const covers = coversAt?.value;
  if (coversAt !== undefined) {
    checkSegment(coversAt.value, at(siteOf(coversAt.origin, name, false), 'covers'), ctx);
  }
  const id = lastDefined(layers, 'id');
  const idRules = (id?.value ?? []).map((part, i) =>
    compileRule(
      part,
      { type: 'string', array: false },
      at(siteOf(id?.origin ?? first.origin, `${name}.id`, bound, boundType), 'id', i),
      ctx,
    ),
  );
  if (id === undefined) {
    ctx.report(MappingErrorCode.SchemaViolation, `resource rule "${name}" has no id:`, first.origin, name);
  }
  const elements = new Map<string, CompiledElement>();
  for (const layer of layers) {
    if (layer.raw.elements === undefined) continue;
    const site = at(siteOf(layer.origin, name, bound, boundType), 'elements');
    for (const e of compileElements(layer.raw.elements, type.value, site, ctx)) {
      if (e.required === true) {
        ctx.report(
          MappingErrorCode.SchemaViolation,
          `required: on an element applies inside object: (the object is not built without it); a resource's own elements cannot be required`,
          { file: layer.origin.file, pointer: [...layer.origin.pointer, 'elements', e.key.join('.')] },
          `${name}.${e.key.join('.')}`,
        );
      }
      elements.set(e.key.join('.'), e);
    }
  }
  const deferred = [...elements.values()].some((e) => e.rules.some(readsAssumedZone));
  const expected = new Map<string, CompiledElement>();
  for (const layer of layers) {
    if (layer.raw.expectStored === undefined) continue;
    const site = at(siteOf(layer.origin, name, bound), 'expectStored');
    for (const e of compileElements(layer.raw.expectStored, type.value, site, ctx)) {
      if (e.key.length !== 1) {
        ctx.report(
          MappingErrorCode.SchemaViolation,
          `expectStored names top-level elements only, not "${e.key.join('.')}"`,
          { file: layer.origin.file, pointer: [...layer.origin.pointer, 'expectStored'] },
          name,
        );
        continue;
      }
      expected.set(e.key.join('.'), e);
    }
  }
  const warnWhenSkipped = lastDefined(layers, 'warnWhenSkipped');
  if (warnWhenSkipped !== undefined && when === undefined) {
    ctx.report(
      MappingErrorCode.SchemaViolation,
      `resource rule "${name}" has warnWhenSkipped but no when: nothing is ever skipped`,
      { file: warnWhenSkipped.origin.file, pointer: [...warnWhenSkipped.origin.pointer, 'warnWhenSkipped'] },
      name,
    );
  }
  return {
    name,
    resourceType: type.value,
    id: idRules.filter((r): r is CompiledRule => r !== undefined),
    idRequired: (id?.value ?? [])
      .filter((_part, i) => idRules[i] !== undefined)
      .map((part) => typeof part === 'object' && part.required === true),
    required: lastDefined(layers, 'required')?.value === true,
    referenceOnly: lastDefined(layers, 'referenceOnly')?.value === true,
    ...(deferred ? { readsAssumedZone: true as const } : {}),
    update: lastDefined(layers, 'update')?.value ?? 'replace',
    merge: compileMerges(layers, type.value, ctx),
    ...(covers !== undefined ? { covers } : {}),
    forEach: levels,
    elements: [...elements.values()],
    expectStored: [...expected.values()],
    ...(warnWhenSkipped !== undefined ? { warnWhenSkipped: warnWhenSkipped.value } : {}),
    where: `${type.origin.file}#${name}`,
    ...(whenCompiled !== undefined ? { when: whenCompiled } : {}),
  };
}

/** Compiles a mapping; problems go to the context, and the result is only used when there were none. */
export function compileMapping(src: MappingSource, base: CompileContext): CompiledMapping {
  if (src.ignore !== undefined) {
    // Nothing of an ignored mapping runs: only which events it claims, and why.
    return {
      file: src.file,
      messageType: src.messageType,
      events: src.events,
      ignore: src.ignore,
      ignoreSegments: new Map(),
      eventTime: [],
      tables: base.tables,
      resources: [],
      ...(src.sender !== undefined ? { sender: src.sender } : {}),
    };
  }
  const ruleNames = new Set(src.resources.map((layers) => layers[0]?.raw.name ?? ''));
  const ctx: CompileContext & RuleNames = {
    schema: base.schema,
    tables: base.tables,
    report: base.report.bind(base),
    ruleNames,
    ...(src.unavailable !== undefined ? { unavailable: src.unavailable } : {}),
  };
  const resources = src.resources
    .map((layers) => compileResource(layers, ctx))
    .filter((r): r is CompiledResourceRule => r !== undefined);
  const eventTime = (src.eventTime?.rules ?? []).map((rule, i) =>
    compileRule(
      rule,
      { type: 'dateTime', array: false },
      siteOf(
        { ...(src.eventTime?.origin ?? { file: src.file, pointer: [] }), pointer: ['eventTime', i] },
        'eventTime',
        false,
      ),
      ctx,
    ),
  );
  const ignoreSegments = new Map<string, string>();
  for (const ignored of src.ignoreSegments ?? []) {
    if (checkSegment(ignored.name, siteOf(ignored.origin, 'ignoreSegments', false), ctx)) {
      ignoreSegments.set(ignored.name, ignored.reason);
    }
  }
  return {
    file: src.file,
    messageType: src.messageType,
    ignoreSegments,
    events: src.events,
    eventTime: eventTime.filter((r): r is CompiledRule => r !== undefined),
    tables: base.tables,
    resources,
    ...(src.sender !== undefined ? { sender: src.sender } : {}),
  };
}
