/**
 * What engine tests that replay golden examples share: an example's HL7 with some text replaced
 * (fresh control ids, other patients), and a JSON read of the engine's HTTP API with a token.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { TestEngine } from './test-engine';

/** `mappings/tests/<name>.hl7`, each `[from, to]` replaced everywhere. */
export function goldenMessage(name: string, edits: readonly (readonly [string, string])[] = []): string {
  return edits.reduce(
    (text, [from, to]) => text.replaceAll(from, to),
    readFileSync(`mappings/tests/${name}.hl7`, 'utf8'),
  );
}

/** GET `path` (from the engine's root, e.g. `/fhir/Patient/1`) with a bearer token, expecting 200. */
export async function getJson(
  engine: TestEngine,
  token: string,
  path: string,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${engine.config.http.publicUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** The resources of a searchset Bundle. */
export function bundleResources(bundle: Record<string, unknown>): Record<string, unknown>[] {
  return ((bundle['entry'] as { resource: Record<string, unknown> }[] | undefined) ?? []).map(
    (e) => e.resource,
  );
}
