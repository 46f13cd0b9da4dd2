import type { Migration } from './migration';

/**
 * The analyst's archive search, index-backed on a large archive (each search reads newest first,
 * `ORDER BY id DESC LIMIT n`, and the pool plans statements generically, so every filter is a
 * plain equality or range a btree answers whatever the value):
 * - `patient_name` (`Family, Given` as sent, for display) and `patient_name_key` (lower case,
 *   accents stripped, `family^given`; hl7/patient-name.ts), from PID-5's first repetition at
 *   ingest. The key is in the "C" collation: a name prefix is then a plain range
 *   (`>= 'smith^jo' AND < 'smith^jp'`), which a generic plan can still use, unlike LIKE.
 *   Rows archived before this migration keep NULL names and are not found by name.
 * - `error_key`: the cause of a failure (store/error-key.ts), set when a message fails and cleared
 *   when it is replayed, so failed messages group by cause and a group can be listed or replayed.
 *   Failed rows from before this migration have none until they fail again.
 * - Indexes: the MRN (the patient filter reads `split_part(patient_key, '|', 2)`), the name key,
 *   the control ID, facility + status + received time, and the error key.
 */
export const messageSearch: Migration = {
  version: 13,
  name: 'message-search',
  sql: `
ALTER TABLE messages ADD COLUMN patient_name TEXT;
ALTER TABLE messages ADD COLUMN patient_name_key TEXT COLLATE "C";
ALTER TABLE messages ADD COLUMN error_key TEXT;

CREATE INDEX messages_patient_id ON messages ((split_part(patient_key, '|', 2)), id);
CREATE INDEX messages_patient_name ON messages (patient_name_key, id) WHERE patient_name_key IS NOT NULL;
CREATE INDEX messages_control_id ON messages (control_id, id);
CREATE INDEX messages_facility_status_received ON messages (sending_facility, status, received_at);
CREATE INDEX messages_error_key ON messages (error_key, id) WHERE error_key IS NOT NULL;
`,
};
