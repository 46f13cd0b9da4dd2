import type { Migration } from './migration';

/** The archive is the system of record: a row exists before the sender gets its ACK. */
export const messageArchive: Migration = {
  version: 1,
  name: 'message-archive',
  sql: `
CREATE TABLE messages (
  id               BIGSERIAL PRIMARY KEY,
  sender           TEXT NOT NULL,
  sending_app      TEXT,
  sending_facility TEXT,
  control_id       TEXT,
  message_type     TEXT,
  trigger_event    TEXT,
  version          TEXT,
  charset          TEXT,
  patient_key      TEXT,
  raw              BYTEA NOT NULL,
  remote_address   TEXT,
  received_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  status           TEXT NOT NULL CHECK (status IN ('received','processed','ignored','failed','rejected')),
  error            JSONB,
  duplicates       INTEGER NOT NULL DEFAULT 0,
  process_count    INTEGER NOT NULL DEFAULT 0,
  processed_at     TIMESTAMPTZ,
  processing_ms    DOUBLE PRECISION,
  mapping_version  TEXT,
  output           JSONB
);
-- Duplicate detection lives here, not in Redis: one accepted row per (sender, MSH-10).
CREATE UNIQUE INDEX messages_sender_control ON messages (sender, control_id) WHERE status <> 'rejected';
CREATE INDEX messages_unfinished ON messages (patient_key, id) WHERE status = 'received';
CREATE INDEX messages_received_at ON messages (received_at);
CREATE INDEX messages_status ON messages (status, id);
`,
};
