/**
 * How the engine is doing: messages per sender with error rates, ACK latency, queue depths and
 * notification delivery states over a chosen period (`GET /api/operations`), refreshed every
 * quarter minute. Admins get the raw queue view (Bull Board) one click away.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactElement } from 'react';
import { useApi } from '../api/api-context';
import type { ConsoleRole, OperationsFigures } from '../api/api-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { formatInstant, formatMs, formatRate } from '../common/console-format';
import { ResultsTable } from '../common/results-table';
import { StatusPanel } from '../../components/status-panel';

const PERIODS: readonly { readonly hours: number; readonly label: string }[] = [
  { hours: 1, label: 'Last hour' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 168, label: 'Last 7 days' },
];

const REFRESH_MS = 15_000;

const SENDER_COLUMNS = ['Sender', 'Received', 'Processed', 'Failed', 'Rejected', 'Ignored', 'Error rate'];
const QUEUE_COLUMNS = ['Queue', 'Waiting', 'Active', 'Delayed', 'Failed', 'Completed'];

export function OperationsScreen({ role }: { readonly role: ConsoleRole }): ReactElement {
  const api = useApi();
  const [hours, setHours] = useState(24);
  const query = useQuery({
    queryKey: ['operations', hours],
    queryFn: ({ signal }) => api.get<OperationsFigures>(`/api/operations?hours=${hours}`, signal),
    refetchInterval: REFRESH_MS,
  });
  const ops = query.data;

  return (
    <section aria-labelledby="operations-heading">
      <div className="view-head">
        <h1 id="operations-heading">Operations</h1>
        <div className="actions">
          <label htmlFor="operations-period">Period</label>
          <select
            id="operations-period"
            value={hours}
            onChange={(e) => {
              setHours(Number(e.target.value));
            }}
          >
            {PERIODS.map((p) => (
              <option key={p.hours} value={p.hours}>
                {p.label}
              </option>
            ))}
          </select>
          {role === 'admin' ? (
            <a className="button-link" href="/console/queues">
              Queues (Bull Board)
            </a>
          ) : null}
        </div>
      </div>
      {query.isPending ? <StatusPanel kind="loading" title="Reading the figures…" /> : null}
      {query.isError ? <ApiErrorNotice error={query.error} title="Could not load the figures" /> : null}
      {ops !== undefined ? (
        <>
          <p className="note">Since {formatInstant(ops.since)}.</p>
          <div className="ops-cards">
            <section className="ops-card" aria-labelledby="ops-ack">
              <h2 id="ops-ack">ACK latency</h2>
              <dl className="facts">
                <div>
                  <dt>Messages</dt>
                  <dd>{ops.ack.count}</dd>
                </div>
                <div>
                  <dt>p50</dt>
                  <dd>{formatMs(ops.ack.p50Ms)}</dd>
                </div>
                <div>
                  <dt>p95</dt>
                  <dd>{formatMs(ops.ack.p95Ms)}</dd>
                </div>
                <div>
                  <dt>p99</dt>
                  <dd>{formatMs(ops.ack.p99Ms)}</dd>
                </div>
              </dl>
            </section>
            <section className="ops-card" aria-labelledby="ops-deliveries">
              <h2 id="ops-deliveries">Notification deliveries</h2>
              <dl className="facts">
                <div>
                  <dt>Pending</dt>
                  <dd>{ops.deliveries.pending}</dd>
                </div>
                <div>
                  <dt>Retrying</dt>
                  <dd>{ops.deliveries.retrying}</dd>
                </div>
                <div>
                  <dt>Delivered</dt>
                  <dd>{ops.deliveries.delivered}</dd>
                </div>
                <div>
                  <dt>Failed</dt>
                  <dd>{ops.deliveries.failed}</dd>
                </div>
              </dl>
            </section>
          </div>

          <h2>Senders</h2>
          <ResultsTable className="senders" caption="Messages per sender" columns={SENDER_COLUMNS}>
            {ops.senders.map((s) => (
              <tr key={s.sender}>
                <th scope="row">{s.sender}</th>
                <td>{s.received}</td>
                <td>{s.processed}</td>
                <td>{s.failed}</td>
                <td>{s.rejected}</td>
                <td>{s.ignored}</td>
                <td>{formatRate(s.errorRate)}</td>
              </tr>
            ))}
          </ResultsTable>
          {ops.senders.length === 0 ? <p className="note">No messages in this period.</p> : null}

          <h2>Queues</h2>
          <ResultsTable className="queues" caption="Queue depths" columns={QUEUE_COLUMNS}>
            {ops.queues.map((q) => (
              <tr key={q.name}>
                <th scope="row">{q.name}</th>
                <td>{q.waiting}</td>
                <td>{q.active}</td>
                <td>{q.delayed}</td>
                <td>{q.failed}</td>
                <td>{q.completed}</td>
              </tr>
            ))}
          </ResultsTable>
        </>
      ) : null}
    </section>
  );
}
