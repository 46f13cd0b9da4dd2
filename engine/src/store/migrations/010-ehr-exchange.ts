import type { Migration } from './migration';

/**
 * The EHR token exchange (auth/ehr-token-exchange.ts).
 * - `identity_ehr_reviews`: an EHR's launch Patient that matched no engine person at the link
 *   threshold (`no-match`) or more than one (`ambiguous`). The EHR-side patient is no stored
 *   record, so it cannot be a side of `identity_reviews`: it is named by its issuer and its id
 *   there, with the minimal Patient matching read (names, birth date, gender, address, phones,
 *   identifiers) and the candidates' ids and weights. One open row per EHR patient; a repeated
 *   exchange counts `attempts` and refreshes it, and a later exchange that matches closes it
 *   (`matched`, with the person).
 * - `audit_events.detail`: codes and ids that say how an access ended (for an exchange: issuer,
 *   EHR patient id, match status, the refusal's reason), never demographics.
 */
export const ehrExchange: Migration = {
  version: 10,
  name: 'ehr-exchange',
  sql: `
CREATE TABLE identity_ehr_reviews (
  id             BIGSERIAL PRIMARY KEY,
  issuer         TEXT NOT NULL,
  ehr_patient    TEXT NOT NULL,
  reason         TEXT NOT NULL CHECK (reason IN ('no-match', 'ambiguous')),
  patient        JSONB NOT NULL,
  candidates     JSONB NOT NULL DEFAULT '[]',
  attempts       INTEGER NOT NULL DEFAULT 1,
  status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'matched')),
  matched_person TEXT,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  resolved_at    TIMESTAMPTZ,
  CHECK (status <> 'matched' OR matched_person IS NOT NULL)
);
CREATE UNIQUE INDEX identity_ehr_reviews_open ON identity_ehr_reviews (issuer, ehr_patient) WHERE status = 'open';
CREATE INDEX identity_ehr_reviews_status ON identity_ehr_reviews (status, id);

ALTER TABLE audit_events ADD COLUMN detail JSONB;
`,
};
