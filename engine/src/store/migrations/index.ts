/**
 * Versioned schema changes, applied in order at start-up. A migration, once landed, never
 * changes: add a new one instead.
 */
import { messageArchive } from './001-message-archive';
import { auth } from './002-auth';
import { fhirResources } from './003-fhir-resources';
import { historyByMessage } from './004-history-by-message';
import { orderingAndOutbox } from './005-ordering-and-outbox';
import { contentDuplicates } from './006-content-duplicates';
import { identity } from './007-identity';
import { notifications } from './008-notifications';
import { rosters } from './009-rosters';
import { ehrExchange } from './010-ehr-exchange';
import { consoleSessions } from './011-console-sessions';
import { mappingVersions } from './012-mapping-versions';
import { messageSearch } from './013-message-search';
import { operationsIndexes } from './014-operations-indexes';
import { parkedMessages } from './015-parked-messages';
import { searchIndexPartial } from './016-search-index-partial';
import type { Migration } from './migration';

export type { Migration };

export const migrations: readonly Migration[] = [
  messageArchive,
  auth,
  fhirResources,
  historyByMessage,
  orderingAndOutbox,
  contentDuplicates,
  identity,
  notifications,
  rosters,
  ehrExchange,
  consoleSessions,
  mappingVersions,
  messageSearch,
  operationsIndexes,
  parkedMessages,
  searchIndexPartial,
];
