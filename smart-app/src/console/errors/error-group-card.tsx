/**
 * One cause of failure: what it is (code, words, HL7 location, mapping rule), how often and from
 * whom, and its messages on demand. Replay some of them, or the whole group once the cause is
 * fixed; the group's key is the engine's filter for "every failed message with this cause".
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactElement } from 'react';
import { useApi } from '../api/api-context';
import type { ErrorGroup, MessagePage } from '../api/api-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { formatInstant, plural } from '../common/console-format';
import { MessageTable } from '../messages/message-table';
import { EMPTY_FILTER, messageQuery, replayFilter, type MessageFilter } from '../messages/message-filter';
import { RouteLink } from '../routing/console-navigation';
import { routeHref } from '../routing/console-route';
import { useReplay, type StartedReplay } from './use-replay';

/** Messages listed per group; the whole group is replayed by filter, not by this list. */
const GROUP_PAGE = 100;

/** Every failed message with the group's cause: its list, its replay and its browser link. */
function groupFilter(group: ErrorGroup): MessageFilter {
  return { ...EMPTY_FILTER, status: 'failed', errorKey: group.key };
}

export interface ErrorGroupCardProps {
  readonly group: ErrorGroup;
  readonly index: number;
  /** A replay of this group's messages started; the screen follows it (the group may vanish). */
  readonly onReplayStarted: (job: StartedReplay) => void;
}

export function ErrorGroupCard({ group, index, onReplayStarted }: ErrorGroupCardProps): ReactElement {
  const [open, setOpen] = useState(false);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const replay = useReplay((started, request) => {
    onReplayStarted({
      ...started,
      label:
        'ids' in request ? `${request.ids.length} selected: ${group.message}` : `Group: ${group.message}`,
    });
  });
  const headingId = `error-group-${index}`;
  const listId = `error-group-${index}-messages`;

  // Asked in the page, not with window.confirm: a modal the browser draws cannot be styled or
  // read in context, and some embeddings block it.
  const [confirming, setConfirming] = useState(false);
  const replayGroup = (): void => {
    setConfirming(false);
    replay.mutate({ filter: replayFilter(groupFilter(group)) });
  };

  return (
    <li className="error-group" aria-labelledby={headingId}>
      <div className="error-group-head">
        <h2 id={headingId}>
          <span className="error-count">{group.count}</span> {group.message}
        </h2>
        <dl className="facts">
          <div>
            <dt>Code</dt>
            <dd>
              <code>{group.code}</code>
            </dd>
          </div>
          {group.expression !== undefined && group.expression.length > 0 ? (
            <div>
              <dt>Location</dt>
              <dd>
                <code>{group.expression.join(', ')}</code>
              </dd>
            </div>
          ) : null}
          {group.rule !== undefined ? (
            <div>
              <dt>Rule</dt>
              <dd>
                <code>{group.rule}</code>
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Senders</dt>
            <dd>{group.senders.join(', ')}</dd>
          </div>
          <div>
            <dt>First</dt>
            <dd>{formatInstant(group.firstAt)}</dd>
          </div>
          <div>
            <dt>Last</dt>
            <dd>{formatInstant(group.lastAt)}</dd>
          </div>
        </dl>
        <div className="actions">
          <button
            type="button"
            aria-expanded={open}
            aria-controls={listId}
            onClick={() => {
              setOpen((o) => !o);
            }}
          >
            {open ? 'Hide messages' : 'Show messages'}
          </button>
          <button
            type="button"
            className="primary"
            disabled={replay.isPending || confirming}
            onClick={() => {
              setConfirming(true);
            }}
          >
            Replay group ({group.count})
          </button>
          <RouteLink href={routeHref({ screen: 'messages', filter: groupFilter(group) })}>
            Open in message browser
          </RouteLink>
        </div>
        {confirming ? (
          <div className="confirm" role="group" aria-label="Confirm replay">
            <p>
              Replay all {plural(group.count, 'failed message')} of this group with the deployed mappings?
            </p>
            <button type="button" className="primary" onClick={replayGroup}>
              Replay all
            </button>
            <button
              type="button"
              onClick={() => {
                setConfirming(false);
              }}
            >
              Cancel
            </button>
          </div>
        ) : null}
      </div>
      {open ? (
        <div id={listId}>
          <GroupMessages
            group={group}
            selected={selected}
            onToggle={(id, on) => {
              setSelected((s) => {
                const next = new Set(s);
                if (on) next.add(id);
                else next.delete(id);
                return next;
              });
            }}
            onReplaySelected={() => {
              replay.mutate({ ids: [...selected] });
              setSelected(new Set());
            }}
            replaying={replay.isPending}
          />
        </div>
      ) : null}
      {replay.isError ? <ApiErrorNotice error={replay.error} title="Could not start the replay" /> : null}
    </li>
  );
}

interface GroupMessagesProps {
  readonly group: ErrorGroup;
  readonly selected: ReadonlySet<string>;
  readonly onToggle: (id: string, on: boolean) => void;
  readonly onReplaySelected: () => void;
  readonly replaying: boolean;
}

function GroupMessages({
  group,
  selected,
  onToggle,
  onReplaySelected,
  replaying,
}: GroupMessagesProps): ReactElement {
  const api = useApi();
  const url = `/api/messages?${messageQuery(groupFilter(group), GROUP_PAGE).toString()}`;
  const query = useQuery({
    queryKey: ['messages', url],
    queryFn: ({ signal }) => api.get<MessagePage>(url, signal),
  });
  if (query.isPending) return <p className="note">Loading the group’s messages…</p>;
  if (query.isError) {
    return <ApiErrorNotice error={query.error} title="Could not load the group’s messages" />;
  }
  const messages = query.data.messages;
  return (
    <>
      {messages.length === 0 ? <p className="note">No failed messages left in this group.</p> : null}
      {messages.length > 0 ? (
        <MessageTable
          messages={messages}
          caption={`Failed messages: ${group.message}`}
          selected={selected}
          onToggle={onToggle}
        />
      ) : null}
      {query.data.next !== undefined ? (
        <p className="note">The first {messages.length} are listed; “Replay group” replays them all.</p>
      ) : null}
      <div className="actions">
        <button type="button" disabled={selected.size === 0 || replaying} onClick={onReplaySelected}>
          Replay selected ({selected.size})
        </button>
      </div>
    </>
  );
}
