/**
 * A prepared statement's name is derived from its text (store/db.ts `preparedName`). pg refuses a
 * name it has prepared for another text, on every session that ran the first, so a name must
 * follow its text: the same text, the same name; another text, another name.
 */
import { describe, expect, it } from 'vitest';
import { preparedName } from '../../engine/src/store/db';

describe('preparedName', () => {
  it('is the same for the same text, however it was built', () => {
    const columns = 'id, status';
    expect(preparedName(`SELECT ${columns} FROM messages WHERE id = $1`)).toBe(
      preparedName('SELECT id, status FROM messages WHERE id = $1'),
    );
  });

  it('differs for texts that differ in one character', () => {
    const a = preparedName('SELECT resource FROM fhir_resources WHERE id = $1');
    const b = preparedName('SELECT resource FROM fhir_resources WHERE id = $1 FOR UPDATE');
    const c = preparedName('SELECT resource FROM fhir_resources WHERE id = $2');
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('is an identifier PostgreSQL keeps whole (at most 63 bytes)', () => {
    const name = preparedName('SELECT 1');
    expect(name).toMatch(/^s_[A-Za-z0-9_-]+$/);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
  });
});
