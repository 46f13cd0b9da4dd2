/**
 * "Did message X arrive?": the archive searched by sender, type, status, control ID, MRN, patient
 * name and received dates, a page at a time (the engine's `next` cursor). The filters live in the
 * address; older pages are reached by following `next`, newer ones from the pages already seen.
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type ReactElement } from 'react';
import { useApi } from '../api/api-context';
import type { MessagePage } from '../api/api-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { plural } from '../common/console-format';
import { StatusPanel } from '../../components/status-panel';
import { navigate } from '../routing/console-navigation';
import { routeHref } from '../routing/console-route';
import { activeFilterCount, filterToSearch, messageQuery, type MessageFilter } from './message-filter';
import { MessageFilterForm } from './message-filter-form';
import { MessageTable } from './message-table';

const PAGE_SIZE = 50;

export function MessageBrowser({ filter }: { readonly filter: MessageFilter }): ReactElement {
  // A new search starts from its first page: the pages of the last one mean nothing here.
  const key = filterToSearch(filter);
  return <MessageBrowserFor key={key} filter={filter} />;
}

function MessageBrowserFor({ filter }: { readonly filter: MessageFilter }): ReactElement {
  const api = useApi();
  const first = `/api/messages?${messageQuery(filter, PAGE_SIZE).toString()}`;
  const [pages, setPages] = useState<readonly string[]>([first]);
  const current = pages[pages.length - 1] ?? first;
  const query = useQuery({
    queryKey: ['messages', current],
    queryFn: ({ signal }) => api.get<MessagePage>(current, signal),
    placeholderData: keepPreviousData,
  });
  const page = query.data;
  const active = activeFilterCount(filter);

  return (
    <section aria-labelledby="messages-heading">
      <h1 id="messages-heading">Messages</h1>
      <MessageFilterForm
        filter={filter}
        onSearch={(f) => {
          navigate(routeHref({ screen: 'messages', filter: f }));
        }}
      />
      {query.isPending ? <StatusPanel kind="loading" title="Searching the archive…" /> : null}
      {query.isError ? <ApiErrorNotice error={query.error} title="Could not search the messages" /> : null}
      {page !== undefined ? (
        <>
          <p className="count" role="status" aria-live="polite">
            {page.messages.length === 0
              ? 'No messages match.'
              : `Page ${pages.length}: ${plural(page.messages.length, 'message')}${
                  active > 0 ? ` matching ${plural(active, 'filter')}` : ''
                }, newest first.`}
          </p>
          {page.messages.length > 0 ? (
            <MessageTable messages={page.messages} caption="Messages found" />
          ) : null}
          <div className="actions pager">
            <button
              type="button"
              disabled={pages.length <= 1}
              onClick={() => {
                setPages((p) => p.slice(0, -1));
              }}
            >
              Newer
            </button>
            <button
              type="button"
              disabled={page.next === undefined || query.isFetching}
              onClick={() => {
                if (page.next !== undefined) {
                  const next = page.next;
                  setPages((p) => [...p, next]);
                }
              }}
            >
              Older
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}
