import type { Migration } from './migration';

/**
 * The messages waiting for an earlier message of their patient, by key (store/message-order.ts).
 * Every finished message asks whether any waits for it, and the usual answer is none: these
 * indexes hold only the parked rows, so that question costs a lookup in a handful of entries and
 * never a scan of the unfinished backlog, whatever the planner's statistics say about it.
 */
export const parkedMessages: Migration = {
  version: 15,
  name: 'parked-messages',
  sql: `
CREATE INDEX messages_parked_patient ON messages (patient_key) WHERE parked;
CREATE INDEX messages_parked_order_keys ON messages USING gin (order_keys) WHERE parked AND order_keys IS NOT NULL;
`,
};
