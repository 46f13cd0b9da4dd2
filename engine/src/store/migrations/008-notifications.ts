import type { Migration } from './migration';

/**
 * PCP notifications: who is told of which event, over which channel, and what became of it.
 * - `outbox.status` gains `notified`: the event's recipients are known and each has its own
 *   `notifications` row; delivery is tracked there, one row per recipient.
 * - `notifications`: one row per event and target (an Endpoint, a Subscription, an inbox). Its
 *   `notice_id` is what the receiver sees (Bundle.identifier, MessageHeader.id): the same on every
 *   attempt, so a receiver can drop a retry whose answer was lost.
 * - `notification_attempts`: the delivery log, one row per attempt.
 * - `subscription_state`: the server's side of a Subscription (event counter, heartbeat).
 * - `endpoint_secrets`: webhook signing secrets, kept out of the readable Endpoint resource.
 */
export const notifications: Migration = {
  version: 8,
  name: 'notifications',
  sql: `
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
  CHECK (status IN ('pending', 'notified', 'delivered', 'no-recipient', 'failed'));

CREATE TABLE notifications (
  id               BIGSERIAL PRIMARY KEY,
  notice_id        UUID NOT NULL UNIQUE,
  outbox_id        BIGINT NOT NULL REFERENCES outbox (id),
  event_key        TEXT NOT NULL,
  kind             TEXT NOT NULL,
  patient_ref      TEXT,
  channel          TEXT NOT NULL CHECK (channel IN ('davinci', 'subscription', 'webhook', 'inbox')),
  -- Endpoint/<id>, Subscription/<id>, or the Practitioner of an inbox notice.
  target           TEXT NOT NULL,
  -- Why: [{"source": "message"|"person"|"roster"|"subscription", "practitioner", "via"}].
  reasons          JSONB NOT NULL,
  -- The Subscription's event number (subscription channel only).
  event_number     BIGINT,
  status           TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'delivered', 'retrying', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  -- Bumped when an analyst retries a failed notice: its delivery job is then a new one.
  round            INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER,
  last_error       TEXT,
  next_attempt_at  TIMESTAMPTZ,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  queued_at        TIMESTAMPTZ,
  delivered_at     TIMESTAMPTZ,
  finished_at      TIMESTAMPTZ,
  UNIQUE (event_key, channel, target)
);
CREATE INDEX notifications_unqueued ON notifications (id) WHERE queued_at IS NULL;
CREATE INDEX notifications_status ON notifications (status, id);
CREATE INDEX notifications_patient ON notifications (patient_ref, id);
CREATE INDEX notifications_target ON notifications (target, id);
CREATE INDEX notifications_outbox ON notifications (outbox_id);

CREATE TABLE notification_attempts (
  notification_id  BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  attempt          INTEGER NOT NULL,
  started_at       TIMESTAMPTZ NOT NULL,
  latency_ms       REAL,
  status_code      INTEGER,
  outcome          TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
  error            TEXT,
  PRIMARY KEY (notification_id, attempt)
);

CREATE TABLE subscription_state (
  subscription_id    TEXT PRIMARY KEY,
  events_since_start BIGINT NOT NULL DEFAULT 0,
  last_sent_at       TIMESTAMPTZ,
  error              TEXT
);

CREATE TABLE endpoint_secrets (
  endpoint_id TEXT PRIMARY KEY,
  secret      TEXT NOT NULL
);
`,
};
