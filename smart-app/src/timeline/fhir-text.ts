/**
 * Turning FHIR datatypes into the words a clinician reads: a concept's text, a person's name.
 * Hospitals fill different parts (text, display, only a code), so each helper tries them in order.
 */
import type { CodeableConcept, Coding, HumanName } from '../fhir/fhir-resources';

/** `text`, else the first coding's display, else its code. */
export function conceptText(concept: CodeableConcept | undefined): string | undefined {
  if (concept === undefined) return undefined;
  if (concept.text !== undefined && concept.text !== '') return concept.text;
  for (const c of concept.coding ?? []) {
    const t = codingText(c);
    if (t !== undefined) return t;
  }
  return undefined;
}

/** A coding's display, else its code. */
export function codingText(coding: Coding | undefined): string | undefined {
  if (coding === undefined) return undefined;
  if (coding.display !== undefined && coding.display !== '') return coding.display;
  return coding.code !== undefined && coding.code !== '' ? coding.code : undefined;
}

/** The official (else usual, else first) name as "Dr Gregory House MD". */
export function humanNameText(names: readonly HumanName[] | undefined): string | undefined {
  if (names === undefined || names.length === 0) return undefined;
  const name = names.find((n) => n.use === 'official') ?? names.find((n) => n.use === 'usual') ?? names[0];
  if (name === undefined) return undefined;
  if (name.text !== undefined && name.text !== '') return name.text;
  const parts = [...(name.prefix ?? []), ...(name.given ?? []), name.family ?? '', ...(name.suffix ?? [])];
  const text = parts.filter((p) => p !== '').join(' ');
  return text === '' ? undefined : text;
}

/** Whether any coding of `concepts` has `code` (any system). */
export function hasCode(concepts: readonly CodeableConcept[] | undefined, code: string): boolean {
  return (concepts ?? []).some((c) => (c.coding ?? []).some((k) => k.code === code));
}
