/**
 * Which Observations are "the same test" across facilities. A LOINC code is the shared language:
 * Northwind's local GLU and Mercy's glucose both carry LOINC 2345-7, so they trend together. A test
 * with only a local code matches only that code of that system.
 */
import type { CodeableConcept } from '../fhir/fhir-resources';

const LOINC = 'http://loinc.org';

/** `http://loinc.org|2345-7`, else the first coded `system|code`, else the text; undefined if none. */
export function testKeyOf(code: CodeableConcept | undefined): string | undefined {
  const codings = code?.coding ?? [];
  const loinc = codings.find((c) => c.system === LOINC && c.code !== undefined && c.code !== '');
  if (loinc?.code !== undefined) return `${LOINC}|${loinc.code}`;
  const first = codings.find((c) => c.code !== undefined && c.code !== '');
  if (first?.code !== undefined) return `${first.system ?? ''}|${first.code}`;
  const text = code?.text?.trim();
  return text === undefined || text === '' ? undefined : `text:${text.toLowerCase()}`;
}
