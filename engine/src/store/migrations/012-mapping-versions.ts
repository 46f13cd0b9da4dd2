import type { Migration } from './migration';

/**
 * Every version of a mapping file the mapping API deployed, so any can be read back and rolled
 * back to. `baseline` rows keep what was on disk before the API first changed a file (or after it
 * was edited by hand), authored `files`; `set_version` is the version of the whole set the file
 * was deployed in, the value messages record as their `mapping_version`.
 */
export const mappingVersions: Migration = {
  version: 12,
  name: 'mapping-versions',
  sql: `
CREATE TABLE mapping_versions (
  id          BIGSERIAL PRIMARY KEY,
  path        TEXT NOT NULL,
  version     INTEGER NOT NULL,
  content     TEXT NOT NULL,
  etag        TEXT NOT NULL,
  author      TEXT NOT NULL,
  action      TEXT NOT NULL CHECK (action IN ('baseline', 'deploy', 'rollback')),
  set_version TEXT,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (path, version)
);
`,
};
