/**
 * Blocking: a record is compared only with records that share at least one key, so cost grows
 * with the size of a block, not of the population. The keys overlap on purpose: each survives a
 * different error (a mistyped surname still shares given name and birth date; a swapped day and
 * month still shares the sorted pair; a moved patient still shares names and birth year).
 */
import type { Demographics } from './demographics';
import { nicknameRoots, phoneticCodes } from './name-forms';

/** Birth date with day and month in sorted order, so a swap lands in the same block. */
function dateKey(birthDate: string | undefined): string | undefined {
  if (birthDate === undefined) return undefined;
  const [y, m, d] = birthDate.split('-');
  return [y, ...[m, d].sort()].join('');
}

/** The phonetic codes of a given name's formal forms, so "Bill" blocks with "William". */
function givenCodes(d: Demographics): string[] {
  const first = d.given[0];
  if (first === undefined || first.length < 2) return [];
  return [...new Set(nicknameRoots(first).flatMap(phoneticCodes))];
}

/** Every blocking key of a record; `certainTypes` are the identifier types shared across facilities. */
export function blockingKeys(d: Demographics, certainTypes: ReadonlySet<string>): string[] {
  const keys = new Set<string>();
  const year = d.birthDate?.slice(0, 4);
  const date = dateKey(d.birthDate);
  const given = givenCodes(d);
  const familyCodes = [...new Set([...d.familyPhonetic, ...d.familyParts.flatMap(phoneticCodes)])];
  // Family and given name with the birth month: survives a mistyped birth year (which the
  // birth-year and full-date keys do not) without making one block of every John Smith.
  const month = d.birthDate?.slice(5, 7);
  for (const f of familyCodes) {
    // With the sex: the family-and-year block is the largest, and halving it halves the
    // candidates of every message; a record wrong in sex still meets its match on other keys.
    if (year !== undefined) keys.add(`fy:${f}:${year}:${d.sex ?? '?'}`);
    if (month !== undefined) for (const g of given) keys.add(`fgm:${f}:${g}:${month}`);
  }
  if (date !== undefined) {
    for (const g of given) keys.add(`gd:${g}:${date}`);
    if (d.postal !== undefined) keys.add(`dz:${date}:${d.postal}`);
  }
  for (const p of d.phones) keys.add(`ph:${p}`);
  if (d.email !== undefined) keys.add(`em:${d.email}`);
  if (d.ssn !== undefined) keys.add(`ss:${d.ssn}`);
  for (const id of d.identifiers) {
    if (id.type !== undefined && certainTypes.has(id.type)) keys.add(`id:${id.system}|${id.value}`);
  }
  return [...keys];
}

/** `system|value` of the identifiers that certainly name one person wherever they appear. */
export function certainIdentifiers(d: Demographics, certainTypes: ReadonlySet<string>): string[] {
  return d.identifiers
    .filter((id) => id.type !== undefined && certainTypes.has(id.type))
    .map((id) => `${id.system}|${id.value}`);
}
