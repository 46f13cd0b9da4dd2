// Auth state must be shared by every engine process, so it lives in the database, not in memory.
import type { Migration } from './migration';

/**
 * Assertion IDs already used (replay protection for SMART Backend Services) and the audit
 * trail of who read which patient's data.
 */
export const auth: Migration = {
  version: 2,
  name: 'auth',
  sql: `
CREATE TABLE auth_used_jti (
  client_id  TEXT NOT NULL,
  jti        TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  used_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX auth_used_jti_expires_at ON auth_used_jti (expires_at);

-- IDs only: no names, birth dates or other demographics belong in this table.
CREATE TABLE audit_events (
  id            BIGSERIAL PRIMARY KEY,
  recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  client_id     TEXT NOT NULL,
  subject       TEXT,
  action        TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id   TEXT,
  patient_id    TEXT,
  query         TEXT,
  outcome       TEXT NOT NULL CHECK (outcome IN ('success','denied','error'))
);
CREATE INDEX audit_events_patient ON audit_events (patient_id, recorded_at) WHERE patient_id IS NOT NULL;
CREATE INDEX audit_events_client ON audit_events (client_id, recorded_at);
`,
};
