import type { Migration } from './migration';

/**
 * Per-patient order without polling, and an outbox for events derived while processing.
 * - `order_keys`: the keys beyond `patient_key` a message must be ordered on (the merged
 *   patient of an A40). Rare, so its index stays small.
 * - `parked`: the message ran before an earlier one of the same patient and waits for that one
 *   to hand over; `park_count` makes each wake-up's job id new (BullMQ keeps finished ids).
 * - `outbox`: events committed with the change they describe; a relay queues them for delivery.
 */
export const orderingAndOutbox: Migration = {
  version: 5,
  name: 'ordering-and-outbox',
  sql: `
ALTER TABLE messages ADD COLUMN order_keys TEXT[];
ALTER TABLE messages ADD COLUMN parked BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN park_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_unfinished_extra_keys ON messages USING gin (order_keys)
  WHERE status = 'received' AND order_keys IS NOT NULL;

CREATE TABLE outbox (
  id            BIGSERIAL PRIMARY KEY,
  -- Deterministic: the same change processed again (a replay, a redo after a crash) yields the
  -- same key, so a consumer can tell a repeat from a new event.
  event_key     TEXT NOT NULL UNIQUE,
  message_id    BIGINT NOT NULL,
  kind          TEXT NOT NULL,
  patient_key   TEXT,
  payload       JSONB NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  relayed_at    TIMESTAMPTZ,
  status        TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'no-recipient', 'failed')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  finished_at   TIMESTAMPTZ,
  -- Who it went to, or why it failed.
  detail        JSONB
);
CREATE INDEX outbox_unrelayed ON outbox (id) WHERE relayed_at IS NULL;
CREATE INDEX outbox_message ON outbox (message_id);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
`,
};
