import type { Migration } from './migration';

/** The analyst's "what did this message produce" reads history by message. */
export const historyByMessage: Migration = {
  version: 4,
  name: 'history-by-message',
  sql: `CREATE INDEX fhir_resource_history_message ON fhir_resource_history (message_id);`,
};
