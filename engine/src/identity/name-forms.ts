/**
 * The forms of a name that matching compares: upper-case ASCII letters (so a legacy upper-case
 * feed and a mixed-case one agree), a compound surname with its spaces and hyphens removed
 * ("Van der Berg" and "VanderBerg" are one key) and its parts, the nickname groups of a given
 * name, and Double Metaphone codes for names that sound alike.
 */
import { doubleMetaphone } from 'double-metaphone';
import { NICKNAME_GROUPS } from './nickname-groups';

/** Upper case, accents removed, anything but letters, spaces, hyphens and apostrophes dropped. */
export function cleanName(raw: string): string {
  return raw
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z\s'-]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Letters only: the key on which compound and apostrophe spellings of a surname meet. */
export function nameKey(raw: string): string {
  return cleanName(raw).replace(/[^A-Z]/g, '');
}

/**
 * The words of a surname that could stand alone ("GARCIA-LOPEZ" → GARCIA, LOPEZ), leaving out
 * particles, which are not surnames on their own ("VAN DER BERG" → BERG).
 */
export function surnameParts(raw: string): string[] {
  const particles = new Set([
    'VAN',
    'DER',
    'DEN',
    'DE',
    'LA',
    'LE',
    'DA',
    'DI',
    'DEL',
    'VON',
    'ST',
    'MC',
    'MAC',
    'O',
  ]);
  return cleanName(raw)
    .split(/[\s'-]+/)
    .filter((p) => p.length > 1 && !particles.has(p));
}

const GROUPS_OF = ((): ReadonlyMap<string, readonly string[]> => {
  const out = new Map<string, string[]>();
  for (const group of NICKNAME_GROUPS) {
    const formal = group[0];
    if (formal === undefined) continue;
    for (const name of group) {
      const list = out.get(name) ?? [];
      if (!list.includes(formal)) list.push(formal);
      out.set(name, list);
    }
  }
  return out;
})();

/** The formal names `given` may stand for (itself when it is in no group). */
export function nicknameRoots(given: string): readonly string[] {
  return GROUPS_OF.get(given) ?? [given];
}

const FORMS_OF = ((): ReadonlyMap<string, readonly string[]> => {
  const out = new Map<string, string[]>();
  for (const group of NICKNAME_GROUPS) {
    const formal = group[0];
    if (formal !== undefined) out.set(formal, [...(out.get(formal) ?? []), ...group.slice(1)]);
  }
  return out;
})();

/** Every short form of a formal name (empty for a name that is no group's first). */
export function nicknameForms(formal: string): readonly string[] {
  return FORMS_OF.get(formal) ?? [];
}

/** True when two different given names are forms of one name. */
export function areNicknames(a: string, b: string): boolean {
  const roots = nicknameRoots(b);
  return nicknameRoots(a).some((r) => roots.includes(r));
}

/** Double Metaphone primary and alternate codes of a name key (deduplicated, never empty strings). */
export function phoneticCodes(key: string): string[] {
  if (key === '') return [];
  const [primary, alternate] = doubleMetaphone(key);
  return primary === alternate ? [primary] : [primary, alternate].filter((c) => c !== '');
}

/** True when the names share a Double Metaphone code. */
export function soundAlike(a: readonly string[], b: readonly string[]): boolean {
  return a.some((code) => b.includes(code));
}
