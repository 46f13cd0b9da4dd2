/**
 * Runs compiled rules against a message: reads locations in the current scope, converts,
 * translates and assembles values. Pure and allocation-light, since it runs per message.
 */
import type { ConvertContext } from './conversion-types';
import type {
  CompiledCondition,
  CompiledDefault,
  CompiledElement,
  CompiledResourceRule,
  CompiledRule,
  CompiledSource,
} from './mapping-types';
import {
  bindValue,
  countValues,
  enclosingGroup,
  isExplicitNull,
  iterateLevels,
  readText,
  readValues,
} from './scope';
import type { Scope } from './scope';
import { plusMinutes } from './convert-datetime';
import { translateCode } from './translate-code';

/** A resource a rule produces for one iteration. */
export interface Instance {
  readonly rule: CompiledResourceRule;
  readonly scope: Scope;
  readonly id: string;
  readonly reference: string;
}

/** Everything rules of one message share. */
export interface ExecState {
  readonly convert: ConvertContext;
  readonly context: {
    readonly messageId: string;
    readonly receivedAt: string;
    eventTime?: string;
    /** Set once a value was read without an offset, in this zone. */
    assumedTimezone?: string;
  };
  readonly instances: ReadonlyMap<string, readonly Instance[]>;
  readonly all: readonly Instance[];
  readonly rules: ReadonlyMap<string, CompiledResourceRule>;
  /** Computes the id a rule gives in a scope ('' when its parts are empty). */
  readonly idOf: (rule: CompiledResourceRule, scope: Scope) => string;
}

/** True when the condition holds in the scope. */
export function testCondition(c: CompiledCondition, scope: Scope): boolean {
  switch (c.kind) {
    case 'exists':
      return readValues(c.path, scope, false).length > 0;
    case 'in': {
      const v = readText(c.path, scope);
      return v !== undefined && c.values.has(v);
    }
    case 'repeats':
      return countValues(c.path, scope) > 1;
    case 'inTable': {
      const code = readValues(c.path, scope, false)[0]?.part(1);
      return code !== undefined && c.table.lookup(code) !== undefined;
    }
    case 'some':
      return iterateLevels(c.levels, scope).some((g) => testCondition(c.condition, g));
    case 'not':
      return !testCondition(c.condition, scope);
    case 'all':
      return c.conditions.every((x) => testCondition(x, scope));
    case 'any':
      return c.conditions.some((x) => testCondition(x, scope));
  }
}

function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return typeof v !== 'object' || Object.keys(v).length > 0;
}

/** The values a rule yields; a scalar element uses the first. */
export function evaluateRule(
  rule: CompiledRule,
  scope: Scope,
  all: boolean,
  state: ExecState,
  self?: Instance,
): unknown[] {
  // These test `when` in each scope they read (per bound value or per group), not once here.
  const bindsItself =
    rule.source.kind === 'object' ||
    (rule.source.kind === 'ref' && rule.source.from !== undefined) ||
    (rule.source.kind === 'path' && rule.source.forEach.length > 0);
  const values =
    !bindsItself && rule.when !== undefined && !testCondition(rule.when, scope)
      ? []
      : evaluateSource(rule, scope, all, state, self);
  if (values.length > 0 || rule.otherwise === undefined) return values;
  return evaluateRule(rule.otherwise, scope, all, state, self);
}

function evaluateSource(
  rule: CompiledRule,
  scope: Scope,
  all: boolean,
  state: ExecState,
  self?: Instance,
): unknown[] {
  const s = rule.source;
  switch (s.kind) {
    case 'path':
      return evaluatePath(s, rule, scope, all, state);
    case 'const':
      return [typeof s.value === 'object' && s.value !== null ? structuredClone(s.value) : s.value];
    case 'template': {
      let text = '';
      let filled = false;
      for (const part of s.parts) {
        const t = typeof part === 'string' ? part : readText(part, scope);
        if (typeof part !== 'string' && t !== undefined) filled = true;
        text += t ?? '';
      }
      const clean = text.replace(/\s+/g, ' ').trim();
      return filled && clean !== '' ? [clean] : [];
    }
    case 'context': {
      const v = state.context[s.key];
      return v === undefined ? [] : [v];
    }
    case 'ref':
      return evaluateRef(s, rule, scope, all, state);
    case 'refAll':
      return unique(state.all.filter((i) => i !== self && !i.rule.referenceOnly).map((i) => i.reference)).map(
        (reference) => ({
          reference,
        }),
      );
    case 'object':
      return evaluateObject(s, rule, scope, all, state, self);
  }
}

function evaluatePath(
  s: Extract<CompiledSource, { kind: 'path' }>,
  rule: CompiledRule,
  scope: Scope,
  all: boolean,
  state: ExecState,
): unknown[] {
  const many = all || s.join !== undefined;
  const scopes =
    s.forEach.length === 0
      ? [scope]
      : iterateLevels(s.forEach, scope).filter((g) => rule.when === undefined || testCondition(rule.when, g));
  const out: unknown[] = [];
  for (const at of scopes) {
    const values = readValues(s.path, at, many);
    if (values.length === 0) continue;
    const unit = s.unit !== undefined ? readValues(s.unit, at, false)[0] : undefined;
    const ctx = unit !== undefined ? { ...state.convert, unit } : state.convert;
    // A time plus minutes read elsewhere (PR1-5 + PR1-7): without the minutes, no value at all.
    const minutes = s.plusMinutes !== undefined ? readText(s.plusMinutes, at) : undefined;
    if (s.plusMinutes !== undefined && minutes === undefined) continue;
    values.forEach((v, n) => {
      const time = s.table !== undefined ? translateCode(v, s, ctx) : s.convert(v, ctx);
      const converted =
        minutes !== undefined && typeof time === 'string' ? plusMinutes(v.text() ?? '', time, minutes) : time;
      if (!isPresent(converted)) return;
      const d = s.defaults;
      if (d === undefined) {
        out.push(converted);
        return;
      }
      // `$` of defaultsWhen and of a rule default is this value; constants alone need no scope.
      const own = d.readsValue ? bindValue(at, v, n) : at;
      const applies = d.when === undefined || testCondition(d.when, own);
      out.push(applies ? withDefaults(converted, d.values, own, state) : converted);
    });
    if (!many && out.length > 0) break;
  }
  if (s.join === undefined) return out;
  if (out.length === 0) return [];
  const text = out.map(String).join(s.join);
  return [s.encodeJoined !== undefined ? s.encodeJoined(text) : text];
}

/**
 * The converted value with the `defaults:` it lacks; what the value says itself wins. A rule
 * default is read in `own`, the value's scope, and only when the value lacks its element.
 */
function withDefaults(
  value: unknown,
  defaults: readonly CompiledDefault[],
  own: Scope,
  state: ExecState,
): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const has = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const d of defaults) {
    if (isPresent(has[d.key])) continue;
    const v = 'value' in d ? d.value : evaluateRule(d.rule, own, false, state)[0];
    if (!isPresent(v)) continue;
    out ??= { ...has };
    out[d.key] = v;
  }
  return out ?? value;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function related(a: Scope, b: Scope): boolean {
  return a.key === b.key || a.key.startsWith(`${b.key}/`) || b.key.startsWith(`${a.key}/`);
}

/** True when a scope is the group or lies inside it (an SPM's Specimen inside the OBR's order). */
function inside(a: Scope, group: Scope): boolean {
  return a.key === group.key || a.key.startsWith(`${group.key}/`);
}

function evaluateRef(
  s: Extract<CompiledSource, { kind: 'ref' }>,
  rule: CompiledRule,
  scope: Scope,
  all: boolean,
  state: ExecState,
): unknown[] {
  if (s.from === undefined) {
    const group = s.within !== undefined ? enclosingGroup(scope, s.within) : undefined;
    if (s.within !== undefined && group === undefined) return [];
    const found = (state.instances.get(s.target) ?? []).filter((i) =>
      group !== undefined ? inside(i.scope, group) : related(i.scope, scope),
    );
    return unique(found.map((i) => i.reference)).map((reference) => ({ reference }));
  }
  const target = state.rules.get(s.target);
  if (target === undefined) return [];
  const refs: string[] = [];
  const from = s.from;
  for (const outer of iterateLevels(s.forEach, scope)) {
    readValues(from, outer, all).forEach((v, n) => {
      const bound = bindValue(outer, v, n);
      if (rule.when !== undefined && !testCondition(rule.when, bound)) return;
      const id = state.idOf(target, bound);
      if (id !== '') refs.push(`${target.resourceType}/${id}`);
    });
  }
  return unique(refs).map((reference) => ({ reference }));
}

function evaluateObject(
  s: Extract<CompiledSource, { kind: 'object' }>,
  rule: CompiledRule,
  scope: Scope,
  all: boolean,
  state: ExecState,
  self?: Instance,
): unknown[] {
  const scopes =
    s.from !== undefined
      ? readValues(s.from, scope, all).map((v, n) => bindValue(scope, v, n))
      : iterateLevels(s.forEach, scope);
  const out: unknown[] = [];
  for (const inner of scopes) {
    if (rule.when !== undefined && !testCondition(rule.when, inner)) continue;
    const obj = buildElements(s.elements, inner, state, self);
    if (Object.keys(obj).length > 0 && hasRequired(s.elements, obj)) out.push(obj);
    if (!all && out.length > 0) break;
  }
  return out;
}

/**
 * True when every `required` element got a value: an extension whose value is missing is left
 * out whole rather than built with its url alone, which FHIR refuses.
 */
function hasRequired(elements: readonly CompiledElement[], obj: Record<string, unknown>): boolean {
  return elements.every((e) => {
    if (e.required !== true) return true;
    const keys = e.choice ? e.rules.map((r) => [...e.key.slice(0, -1), r.as ?? '']) : [e.key];
    return keys.some((k) => isPresent(valueAt(obj, k)));
  });
}

function valueAt(obj: Record<string, unknown>, keys: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Builds an object (a resource body or a nested element) from element rules. */
export function buildElements(
  elements: readonly CompiledElement[],
  scope: Scope,
  state: ExecState,
  self?: Instance,
  directives?: StoreDirectives,
): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const e of elements) {
    if (e.array) {
      const values: unknown[] = [];
      let fromFallback = false;
      for (const rule of e.rules) {
        // Every rule of a list adds, except a keepStored one: it is the fallback (a
        // data-absent-reason name, an unknown type) for a message that gave nothing else.
        if (rule.keepStored === true && values.length > 0) continue;
        const before = values.length;
        for (const v of evaluateRule(rule, scope, true, state, self)) {
          if (Array.isArray(v)) values.push(...(v as unknown[]));
          else values.push(v);
        }
        if (rule.keepStored === true && values.length > before) fromFallback = true;
      }
      const kept = dedupeReferences(
        e.allowed !== undefined ? values.filter((v) => e.allowed?.has(v as string)) : values,
      );
      if (kept.length > 0) setAt(obj, e.key, kept);
      else noteExplicitNull(e, scope, directives);
      if (kept.length > 0 && fromFallback && e.key.length === 1 && e.key[0] !== undefined) {
        directives?.keepStored.push(e.key[0]);
      }
      continue;
    }
    let filled = false;
    for (const rule of e.rules) {
      const v = evaluateRule(rule, scope, false, state, self)[0];
      if (!isPresent(v) || (e.allowed !== undefined && !e.allowed.has(v as string))) continue;
      const key = e.choice && rule.as !== undefined ? [...e.key.slice(0, -1), rule.as] : e.key;
      setAt(obj, key, v);
      if (rule.keepStored === true && key.length === 1 && key[0] !== undefined) {
        directives?.keepStored.push(key[0]);
      }
      filled = true;
      break;
    }
    if (!filled) noteExplicitNull(e, scope, directives);
  }
  return obj;
}

/** What the store must do beyond writing the body: keep some stored elements, clear others. */
export interface StoreDirectives {
  /** Top-level elements whose stored value wins (filled by a `keepStored` fallback). */
  readonly keepStored: string[];
  /** Top-level elements the sender deleted with HL7's explicit null (`""`). */
  readonly clear: string[];
}

/** An unfilled top-level element whose source field the sender sent as `""` is to be cleared. */
function noteExplicitNull(e: CompiledElement, scope: Scope, directives: StoreDirectives | undefined): void {
  const name = e.key[0];
  if (directives === undefined || e.key.length !== 1 || name === undefined) return;
  const explicit = e.rules.some((rule) => {
    const path =
      rule.source.kind === 'path' ? rule.source.path : 'from' in rule.source ? rule.source.from : undefined;
    return path !== undefined && isExplicitNull(path, scope);
  });
  if (explicit) directives.clear.push(name);
}

/** The same resource referenced twice (PD1-4 and ROL name one PCP) is listed once. */
function dedupeReferences(values: unknown[]): unknown[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const ref = (v as { reference?: unknown } | null)?.reference;
    if (typeof ref !== 'string') return true;
    if (seen.has(ref)) return false;
    seen.add(ref);
    return true;
  });
}

function setAt(obj: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let cur = obj;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i] ?? '';
    const next = cur[k];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      cur = next as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      cur[k] = created;
      cur = created;
    }
  }
  const last = keys[keys.length - 1] ?? '';
  const existing = cur[last];
  if (Array.isArray(existing) && Array.isArray(value)) existing.push(...(value as unknown[]));
  else cur[last] = value;
}
