/**
 * One colour per facility, so a PCP sees at a glance which hospital an item is from. Every colour
 * has at least 4.5:1 contrast on white (so it also works as text), none is the red used for
 * critical results, and the facility's name is always printed too (colour is never the only cue).
 */

export const FACILITY_PALETTE: readonly string[] = [
  '#0b5fa5', // blue
  '#a34700', // burnt orange
  '#1a7f37', // green
  '#7b3fa0', // purple
  '#00727a', // teal
  '#6b5a00', // olive
  '#a1286a', // magenta
  '#4d5b6a', // slate
];

/**
 * Colours for facility keys: sorted by key, so the same set of hospitals gets the same colours on
 * every launch; beyond the palette colours repeat (names still tell them apart).
 */
export function assignFacilityColours(keys: Iterable<string>): ReadonlyMap<string, string> {
  const sorted = [...new Set(keys)].sort((a, b) => a.localeCompare(b));
  return new Map(sorted.map((key, i) => [key, FACILITY_PALETTE[i % FACILITY_PALETTE.length] ?? '#4d5b6a']));
}
