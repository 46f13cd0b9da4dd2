/**
 * Code translation through a code table, shaped for the element filled: a bare code, a Coding,
 * or a CodeableConcept that falls back to the sender's own coding when the table has no row.
 */
import type { ConvertContext } from './conversion-types';
import type { Hl7Value } from './hl7-value';
import type { CompiledSource } from './mapping-types';

type PathSource = Extract<CompiledSource, { kind: 'path' }>;

/** Translates the code of a value (its first component) through the rule's table. */
export function translateCode(v: Hl7Value, source: PathSource, ctx: ConvertContext): unknown {
  const row = source.table?.lookup(v.part(1) ?? '');
  if (source.targetType === 'CodeableConcept') {
    if (row === undefined) return source.convert(v, ctx);
    const coding = {
      system: row.system,
      code: row.target,
      ...(row.display !== undefined ? { display: row.display } : {}),
    };
    const original = source.keepOriginal ? source.convert(v, ctx) : undefined;
    const originalCodings = (original as { coding?: unknown[] } | undefined)?.coding ?? [];
    const text = (original as { text?: string } | undefined)?.text ?? v.part(2);
    return { coding: [coding, ...originalCodings], ...(text !== undefined ? { text } : {}) };
  }
  if (row === undefined) return undefined;
  if (source.targetType === 'Coding') {
    return {
      system: row.system,
      code: row.target,
      ...(row.display !== undefined ? { display: row.display } : {}),
    };
  }
  return row.target;
}
