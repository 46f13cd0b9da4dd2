import type { Migration } from './migration';

/**
 * Cross-facility identity. Each stored Patient has one `identity_records` row naming its person;
 * a person is a row of `identity_persons`, served as FHIR `Person` with a link per record.
 * - `reason`/`assurance`: how the record came to be in its person (`founder`, `score` are
 *   level3/level4 automatic links; `identifier`, `merge`, `analyst` are certain and never
 *   re-decided automatically).
 * - `block_keys`: the blocking keys (identity/blocking-keys.ts), GIN-indexed for candidates.
 * - `order_keys`: the message patient keys (`MSH-4|PID-3.1`) that reach this record, so
 *   processing can order a person's messages from every facility together.
 * - `identity_name_counts`: how many records carry each given and family name, for frequency
 *   adjustment (the total is the planner's estimate of identity_records, not a counter row).
 * - `identity_decisions`: analysts' and merges' decisions on pairs, kept for good.
 * - `identity_reviews`: pairs an analyst should decide, with the score broken down by field.
 */
export const identity: Migration = {
  version: 7,
  name: 'identity',
  sql: `
CREATE TABLE identity_persons (
  id          TEXT PRIMARY KEY,
  version_id  INTEGER NOT NULL DEFAULT 1,
  active      BOOLEAN NOT NULL DEFAULT true,
  merged_into TEXT,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE identity_records (
  patient_id        TEXT PRIMARY KEY,
  person_id         TEXT NOT NULL REFERENCES identity_persons (id),
  reason            TEXT NOT NULL CHECK (reason IN ('founder', 'score', 'identifier', 'merge', 'analyst')),
  assurance         TEXT NOT NULL CHECK (assurance IN ('level3', 'level4')),
  evidence_patient  TEXT,
  evidence_weight   DOUBLE PRECISION,
  active            BOOLEAN NOT NULL,
  demographics      JSONB NOT NULL,
  demographics_hash TEXT NOT NULL,
  given_key         TEXT,
  family_key        TEXT,
  block_keys        TEXT[] NOT NULL,
  order_keys        TEXT[] NOT NULL DEFAULT '{}',
  linked_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX identity_records_person ON identity_records (person_id);
-- The identity sweep's second look at records that founded a person (identity/link-sweep.ts).
CREATE INDEX identity_records_founded ON identity_records (linked_at) WHERE reason = 'founder';
-- fastupdate off: the pending list would make every few-hundredth insert flush it in the foreground,
-- and per-message linking must stay within milliseconds at p99.
CREATE INDEX identity_records_blocks ON identity_records USING gin (block_keys) WITH (fastupdate = off);
CREATE INDEX identity_records_order_keys ON identity_records USING gin (order_keys) WITH (fastupdate = off);

CREATE TABLE identity_name_counts (
  kind  TEXT NOT NULL,
  value TEXT NOT NULL,
  n     INTEGER NOT NULL,
  PRIMARY KEY (kind, value)
);

CREATE TABLE identity_decisions (
  id          BIGSERIAL PRIMARY KEY,
  patient_a   TEXT NOT NULL,
  patient_b   TEXT NOT NULL,
  decision    TEXT NOT NULL CHECK (decision IN ('link', 'separate')),
  source      TEXT NOT NULL CHECK (source IN ('analyst', 'merge')),
  decided_by  TEXT,
  review_id   BIGINT,
  message_id  BIGINT,
  decided_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (patient_a < patient_b)
);
CREATE INDEX identity_decisions_a ON identity_decisions (patient_a);
CREATE INDEX identity_decisions_b ON identity_decisions (patient_b);

CREATE TABLE identity_reviews (
  id          BIGSERIAL PRIMARY KEY,
  patient_a   TEXT NOT NULL,
  patient_b   TEXT NOT NULL,
  weight      DOUBLE PRECISION NOT NULL,
  reason      TEXT NOT NULL,
  breakdown   JSONB NOT NULL,
  status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'linked', 'separated')),
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  decided_at  TIMESTAMPTZ,
  decided_by  TEXT,
  CHECK (patient_a < patient_b)
);
CREATE UNIQUE INDEX identity_reviews_open_pair ON identity_reviews (patient_a, patient_b) WHERE status = 'open';
CREATE INDEX identity_reviews_status ON identity_reviews (status, id);
`,
};
