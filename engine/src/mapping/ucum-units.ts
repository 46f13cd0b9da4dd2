/**
 * Whether a unit code is valid UCUM, by the Regenstrief/NLM validator (@lhncbc/ucum-lhc), not a
 * list of our own: a Quantity may say `system: http://unitsofmeasure.org` only for a code UCUM
 * defines, or a receiving system converts `mEq/L` or `bpm` as if they were UCUM.
 */
import ucum from '@lhncbc/ucum-lhc';

/** Feeds repeat a few dozen units: each is validated once per process. */
const known = new Map<string, boolean>();
/** Bounds the cache against a feed that sends free text in OBX-6. */
const MAX_CACHED = 10_000;

let utils: ReturnType<typeof ucum.UcumLhcUtils.getInstance> | undefined;

/** True when `code` is a valid UCUM expression (case-sensitive, as UCUM is). */
export function isUcumCode(code: string): boolean {
  const cached = known.get(code);
  if (cached !== undefined) return cached;
  // The validator's tables take ~60 ms to load: on first use, not at import.
  utils ??= ucum.UcumLhcUtils.getInstance();
  const valid = utils.validateUnitString(code, false).status === 'valid';
  if (known.size < MAX_CACHED) known.set(code, valid);
  return valid;
}
