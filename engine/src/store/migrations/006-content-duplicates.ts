import type { Migration } from './migration';

/**
 * A duplicate is the same sender, MSH-10 *and* content (hl7/content-hash.ts): a sender whose
 * control-ID counter restarted sends new messages under old MSH-10s, and those must be archived
 * and processed, not acknowledged and dropped.
 * - `content_hash`: set on every row that is not rejected; rows archived before it existed get
 *   it here, from `hl7_content_hash`, the same definition in SQL (a test checks they agree).
 *   It works on `encode(raw, 'escape')`, which keeps CR, LF and printable ASCII as they are and
 *   writes other bytes as `\nnn`, so no character-set conversion is involved.
 * - `control_id_reused`: the row arrived while another row of its sender already had its MSH-10.
 * - The unique index keeps its `status <> 'rejected'` predicate, so rejected rows still never
 *   make a later message a duplicate; its (sender, control_id) prefix serves the reuse lookup.
 */
export const contentDuplicates: Migration = {
  version: 6,
  name: 'content-duplicates',
  sql: String.raw`
ALTER TABLE messages ADD COLUMN content_hash TEXT;
ALTER TABLE messages ADD COLUMN control_id_reused BOOLEAN NOT NULL DEFAULT false;

CREATE FUNCTION hl7_content_hash(raw bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  segs text[];
  msh text[];
  sep text;
BEGIN
  segs := array_remove(regexp_split_to_array(encode(raw, 'escape'), E'[\r\n]+'), '');
  IF cardinality(segs) > 0 AND left(segs[1], 3) = 'MSH' THEN
    sep := substr(segs[1], 4, 1);
    IF sep ~ '^[!-~]$' AND sep !~ '[A-Za-z0-9\\]' THEN
      msh := string_to_array(segs[1], sep);
      IF cardinality(msh) >= 7 THEN msh[7] := ''; END IF;
      IF cardinality(msh) >= 10 THEN msh[10] := ''; END IF;
      segs[1] := array_to_string(msh, sep);
    END IF;
  END IF;
  RETURN encode(sha256(decode(array_to_string(segs, E'\r'), 'escape')), 'hex');
END $$;

UPDATE messages SET content_hash = hl7_content_hash(raw) WHERE status <> 'rejected';
ALTER TABLE messages ADD CONSTRAINT messages_content_hash_set
  CHECK (status = 'rejected' OR content_hash IS NOT NULL);

DROP INDEX messages_sender_control;
CREATE UNIQUE INDEX messages_sender_control_content ON messages (sender, control_id, content_hash)
  WHERE status <> 'rejected';
`,
};
