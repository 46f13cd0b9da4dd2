import type { Migration } from './migration';

/**
 * FHIR resources with every version kept, and the search index extracted at write time.
 * `event_time` is when the message's event happened, which orders updates that arrive late.
 */
export const fhirResources: Migration = {
  version: 3,
  name: 'fhir-resources',
  sql: `
CREATE TABLE fhir_resources (
  resource_type TEXT NOT NULL,
  id            TEXT NOT NULL,
  version_id    INTEGER NOT NULL,
  last_updated  TIMESTAMPTZ NOT NULL,
  event_time    TIMESTAMPTZ NOT NULL,
  deleted       BOOLEAN NOT NULL DEFAULT false,
  content_hash  TEXT NOT NULL,
  resource      JSONB NOT NULL,
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX fhir_resources_last_updated ON fhir_resources (resource_type, last_updated, id);

CREATE TABLE fhir_resource_history (
  resource_type TEXT NOT NULL,
  id            TEXT NOT NULL,
  version_id    INTEGER NOT NULL,
  last_updated  TIMESTAMPTZ NOT NULL,
  event_time    TIMESTAMPTZ NOT NULL,
  deleted       BOOLEAN NOT NULL,
  message_id    TEXT NOT NULL,
  resource      JSONB NOT NULL,
  PRIMARY KEY (resource_type, id, version_id)
);

CREATE TABLE fhir_search_index (
  resource_type TEXT NOT NULL,
  id            TEXT NOT NULL,
  param         TEXT NOT NULL,
  system        TEXT,
  value         TEXT,
  date_start    TIMESTAMPTZ,
  date_end      TIMESTAMPTZ,
  reference     TEXT,
  FOREIGN KEY (resource_type, id) REFERENCES fhir_resources (resource_type, id) ON DELETE CASCADE
);
-- text_pattern_ops serves both token equality and string prefix (LIKE 'x%') matches.
CREATE INDEX fhir_search_index_value ON fhir_search_index (resource_type, param, value text_pattern_ops, system);
CREATE INDEX fhir_search_index_date ON fhir_search_index (resource_type, param, date_start, date_end);
-- Not led by resource_type: a merge looks up every type that references the merged patient.
CREATE INDEX fhir_search_index_reference ON fhir_search_index (reference, param);
CREATE INDEX fhir_search_index_resource ON fhir_search_index (resource_type, id, param);
`,
};
