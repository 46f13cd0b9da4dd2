import type { Migration } from './migration';

/**
 * Practice rosters, one source of "who is this patient's PCP": a practice's CSV upload
 * (`roster` = `csv:Organization/<id>`) or a FHIR Group in the Da Vinci ATR style
 * (`roster` = `Group/<id>`), one row per attributed patient, matched to a person on upload.
 * - `basis`: what the row names its patient by: an engine Patient (`reference`), an identifier
 *   (`identifier`, a logical reference) or demographics (`demographics`).
 * - `demographics`: only what matching reads (names, birth date, gender, postal code, phone,
 *   identifier), as a minimal Patient, so a row can be matched again when its patient arrives.
 * - `block_keys`: the row's blocking keys (identity/blocking-keys.ts); the GIN index serves the
 *   second look at unmatched rows when a new patient is linked.
 * - `status`: `matched` at the link threshold, `review` between the thresholds, else
 *   `unmatched`; only `matched` rows attribute. `score` is the match weight.
 * - `identity_persons_merged_into`: a row matched to a person that was later merged still
 *   attributes, found through the retired person's `merged_into`.
 */
export const rosters: Migration = {
  version: 9,
  name: 'rosters',
  sql: `
CREATE TABLE roster_members (
  id               BIGSERIAL PRIMARY KEY,
  roster           TEXT NOT NULL,
  organization     TEXT,
  row_number       INTEGER NOT NULL CHECK (row_number > 0),
  practitioner_npi TEXT CHECK (practitioner_npi ~ '^[0-9]{10}$'),
  practitioner     TEXT,
  basis            TEXT NOT NULL CHECK (basis IN ('reference', 'identifier', 'demographics')),
  demographics     JSONB,
  block_keys       TEXT[] NOT NULL DEFAULT '{}',
  status           TEXT NOT NULL CHECK (status IN ('matched', 'review', 'unmatched')),
  person_id        TEXT,
  patient_id       TEXT,
  score            DOUBLE PRECISION,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (roster, row_number),
  CHECK (status <> 'matched' OR person_id IS NOT NULL)
);
CREATE INDEX roster_members_person ON roster_members (person_id) WHERE status = 'matched';
CREATE INDEX roster_members_blocks ON roster_members USING gin (block_keys) WHERE status = 'unmatched';

CREATE INDEX identity_persons_merged_into ON identity_persons (merged_into) WHERE merged_into IS NOT NULL;
`,
};
