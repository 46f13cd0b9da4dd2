import type { Migration } from './migration';

/**
 * The operations view counts the notices written in its window (`GET /api/operations`,
 * store/operations-figures.ts) by a range on their creation time instead of reading them all.
 */
export const operationsIndexes: Migration = {
  version: 14,
  name: 'operations-indexes',
  sql: `CREATE INDEX notifications_created_at ON notifications (created_at);`,
};
