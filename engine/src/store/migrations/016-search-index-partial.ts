import type { Migration } from './migration';

/**
 * Each search-index row is one kind of value: a token or string (`value`), a date range
 * (`date_start`/`date_end`) or a reference. The value, date and reference indexes held every
 * row, so three quarters of their entries were NULL keys that no search can find, and an
 * admission wrote 4 index entries a row instead of 2 (a fifth of its WAL records). Each now holds
 * only the rows it can find. Every query that reads one of them compares its column with a
 * strict operator (`=`, `= ANY`, `IN`, `LIKE`, `<`, `>`), which proves the predicate, generic
 * plans included; a search within one resource still reads `fhir_search_index_resource`.
 */
export const searchIndexPartial: Migration = {
  version: 16,
  name: 'search-index-partial',
  sql: `
DROP INDEX fhir_search_index_value;
DROP INDEX fhir_search_index_date;
DROP INDEX fhir_search_index_reference;
CREATE INDEX fhir_search_index_value ON fhir_search_index (resource_type, param, value text_pattern_ops, system)
  WHERE value IS NOT NULL;
CREATE INDEX fhir_search_index_date ON fhir_search_index (resource_type, param, date_start, date_end)
  WHERE date_start IS NOT NULL OR date_end IS NOT NULL;
CREATE INDEX fhir_search_index_reference ON fhir_search_index (reference, param)
  WHERE reference IS NOT NULL;
`,
};
