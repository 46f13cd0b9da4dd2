/**
 * "What did it become, and why did it fail?": one archived message with its labelled segments,
 * the FHIR it produced, the notices it caused, its errors with HL7 location and mapping rule, and
 * the mapping version that handled it. Replay queues it again; the view follows it until the
 * engine has finished with it.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useApi } from '../api/api-context';
import type { MessageDetail, MessageIssue } from '../api/api-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { formatInstant, formatMs, plural } from '../common/console-format';
import { JsonBlock } from '../common/json-block';
import { StatusBadge } from '../common/status-badge';
import { Disclosure } from '../../components/disclosure';
import { StatusPanel } from '../../components/status-panel';
import { outcomeIssues } from '../../fhir/operation-outcome';
import { RouteLink } from '../routing/console-navigation';
import { routeHref } from '../routing/console-route';
import { IssueTable, issueRule } from './issue-table';
import { NotificationTable } from './notification-table';
import { SegmentTable } from './segment-table';

/** How often a message still being processed is read again. */
const PENDING_POLL_MS = 1000;

/** The issues to show: the engine's list, else those of the stored error outcome. */
function issuesOfMessage(m: MessageDetail): readonly MessageIssue[] {
  if (m.issues !== undefined) return m.issues;
  return outcomeIssues(m.error);
}

/** The mapping file to open in the workbench: the failing rule's file, else the message's mapping. */
export function workbenchFile(m: MessageDetail): string | undefined {
  const ruleRef = issuesOfMessage(m)
    .map(issueRule)
    .find((r) => r !== undefined);
  const file = ruleRef?.split('#')[0] ?? m.mappingFile ?? undefined;
  return file === undefined || file === '' ? undefined : file;
}

export function MessageView({ id }: { readonly id: string }): ReactElement {
  const api = useApi();
  const client = useQueryClient();
  const query = useQuery({
    queryKey: ['message', id],
    queryFn: ({ signal }) => api.get<MessageDetail>(`/api/messages/${encodeURIComponent(id)}`, signal),
    refetchInterval: (q) => (q.state.data?.status === 'received' ? PENDING_POLL_MS : false),
  });
  const replay = useMutation({
    mutationFn: () => api.request('POST', `/api/messages/${encodeURIComponent(id)}/replay`),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['message', id] });
      await client.invalidateQueries({ queryKey: ['messages'] });
      await client.invalidateQueries({ queryKey: ['errors'] });
    },
  });

  if (query.isPending) return <StatusPanel kind="loading" title="Loading the message…" />;
  if (query.isError) return <ApiErrorNotice error={query.error} title={`Could not load message ${id}`} />;
  const m = query.data;
  const issues = issuesOfMessage(m);
  const file = workbenchFile(m);
  const entries = m.fhir?.entry ?? [];

  return (
    <article className="message-view" aria-labelledby="message-heading">
      <div className="view-head">
        <h1 id="message-heading">
          Message {m.controlId ?? `#${m.id}`} <StatusBadge status={m.status} />
        </h1>
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={replay.isPending || m.status === 'rejected'}
            onClick={() => {
              replay.mutate();
            }}
          >
            {replay.isPending ? 'Replaying…' : 'Replay'}
          </button>
          <RouteLink
            className="button-link"
            href={routeHref({
              screen: 'mappings',
              ...(file !== undefined ? { path: file } : {}),
              messageId: m.id,
            })}
          >
            Open mapping in workbench
          </RouteLink>
        </div>
      </div>
      {replay.isSuccess ? (
        <p className="status" role="status">
          Replay queued{m.status === 'received' ? '; waiting for the engine…' : `; now ${m.status}.`}
        </p>
      ) : null}
      {replay.isError ? <ApiErrorNotice error={replay.error} title="Could not replay" /> : null}
      <dl className="facts message-facts">
        <div>
          <dt>Archive id</dt>
          <dd>{m.id}</dd>
        </div>
        <div>
          <dt>Sender</dt>
          <dd>{m.sender ?? '—'}</dd>
        </div>
        <div>
          <dt>Type</dt>
          <dd>
            {m.type ?? '—'} {m.version ?? ''}
          </dd>
        </div>
        <div>
          <dt>Received</dt>
          <dd>{formatInstant(m.receivedAt)}</dd>
        </div>
        <div>
          <dt>Processing</dt>
          <dd>{formatMs(m.processingMs)}</dd>
        </div>
        <div>
          <dt>Mapping version</dt>
          <dd className="mapping-version">{m.mappingVersion ?? '—'}</dd>
        </div>
        <div>
          <dt>Mapping file</dt>
          <dd>{m.mappingFile ?? '—'}</dd>
        </div>
        {m.duplicates !== undefined && m.duplicates > 0 ? (
          <div>
            <dt>Duplicates</dt>
            <dd>{m.duplicates}</dd>
          </div>
        ) : null}
      </dl>

      <section aria-labelledby="issues-heading">
        <h2 id="issues-heading">Errors and warnings</h2>
        {issues.length > 0 ? <IssueTable issues={issues} /> : <p className="note">None.</p>}
      </section>

      <section aria-labelledby="segments-heading">
        <h2 id="segments-heading">Segments</h2>
        {m.segments !== undefined && m.segments.length > 0 ? (
          <SegmentTable segments={m.segments} />
        ) : (
          <p className="note">No segment breakdown.</p>
        )}
        {m.raw !== undefined ? (
          <Disclosure className="json-block" summary="Raw message">
            {() => <pre className="code-block">{m.raw?.replace(/\r\n|\r/g, '\n')}</pre>}
          </Disclosure>
        ) : null}
      </section>

      <section aria-labelledby="fhir-heading">
        <h2 id="fhir-heading">FHIR produced</h2>
        {entries.length > 0 ? (
          <>
            <p className="note">
              {plural(entries.length, 'resource')}:{' '}
              {entries
                .map((e) =>
                  typeof e.resource?.['resourceType'] === 'string' ? e.resource['resourceType'] : '?',
                )
                .join(', ')}
            </p>
            <JsonBlock summary="FHIR Bundle (JSON)" value={m.fhir} />
          </>
        ) : (
          <p className="note">None stored.</p>
        )}
      </section>

      <section aria-labelledby="notifications-heading">
        <h2 id="notifications-heading">Notifications</h2>
        {m.notifications !== undefined && m.notifications.length > 0 ? (
          <NotificationTable notifications={m.notifications} />
        ) : (
          <p className="note">None caused.</p>
        )}
      </section>
    </article>
  );
}
