/**
 * Named statements (QueryOptions.prepared) are prepared once per PostgreSQL connection under
 * their name. A name given to two SQL texts makes pg refuse the second ("Prepared statements
 * must be unique") on every connection that ran the first, so each name must appear at exactly
 * one call site, and a call site that picks its SQL text picks its name with it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../engine/src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every `prepared:` option in the engine's source, with the names its expression can take. */
function preparedSites(): { file: string; expression: string; names: string[] }[] {
  return sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/\bprepared: ([^}\n]+)/g)].map((m) => {
      const expression = (m[1] ?? '').trim();
      return { file, expression, names: [...expression.matchAll(/'([^']+)'/g)].map((n) => n[1] ?? '') };
    }),
  );
}

describe('prepared statement names', () => {
  const sites = preparedSites().filter((s) => !s.file.endsWith('store/db.ts'));

  it('are string literals at every call site (a computed name could collide at run time)', () => {
    expect(sites.length).toBeGreaterThan(30);
    for (const s of sites) expect(s.names.length, `${s.file}: ${s.expression}`).toBeGreaterThan(0);
  });

  it('each name is used at one call site only', () => {
    const seen = new Map<string, string>();
    for (const s of sites) {
      for (const name of s.names) {
        expect(seen.get(name), `"${name}" in ${s.file} and ${seen.get(name) ?? ''}`).toBeUndefined();
        seen.set(name, s.file);
      }
    }
  });

  it('a call site choosing between SQL texts chooses between as many names', () => {
    for (const s of sites.filter((x) => x.expression.includes('?'))) {
      expect(new Set(s.names).size, `${s.file}: ${s.expression}`).toBe(2);
    }
  });
});
