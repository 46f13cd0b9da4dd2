/**
 * Messages as rows, newest first. The control ID links to the message view (keyboard and "open in
 * new tab" work); a row's checkbox, when the caller asks for selection, picks it for a replay.
 */
import type { ReactElement } from 'react';
import type { MessageSummary } from '../api/api-types';
import { Badge } from '../../components/badge';
import { formatInstant, formatMs } from '../common/console-format';
import { ResultsTable } from '../common/results-table';
import { StatusBadge } from '../common/status-badge';
import { RouteLink } from '../routing/console-navigation';
import { routeHref } from '../routing/console-route';

export interface MessageTableProps {
  readonly messages: readonly MessageSummary[];
  readonly caption: string;
  /** Ids picked for replay; no checkboxes when undefined. */
  readonly selected?: ReadonlySet<string>;
  readonly onToggle?: (id: string, on: boolean) => void;
}

const COLUMNS = ['Received', 'Control ID', 'Sender', 'Type', 'Patient', 'Status', 'Processing'];
const SELECTABLE_COLUMNS = [<span className="visually-hidden">Select</span>, ...COLUMNS];

export function MessageTable({ messages, caption, selected, onToggle }: MessageTableProps): ReactElement {
  const selectable = selected !== undefined && onToggle !== undefined;
  return (
    <ResultsTable
      className="messages-table"
      caption={caption}
      columns={selectable ? SELECTABLE_COLUMNS : COLUMNS}
    >
      {messages.map((m) => (
        <tr key={m.id} data-message-id={m.id}>
          {selectable ? (
            <td>
              <input
                type="checkbox"
                aria-label={`Select message ${m.controlId ?? m.id}`}
                checked={selected.has(m.id)}
                onChange={(e) => {
                  onToggle(m.id, e.target.checked);
                }}
              />
            </td>
          ) : null}
          <td>{formatInstant(m.receivedAt)}</td>
          <td>
            <RouteLink href={routeHref({ screen: 'message', id: m.id })}>
              {m.controlId ?? `#${m.id}`}
            </RouteLink>
            {m.duplicates > 0 ? <Badge tone="muted">{`+${m.duplicates} dup`}</Badge> : null}
          </td>
          <td>{m.sender ?? '—'}</td>
          <td>
            {m.type ?? '—'}
            {m.version !== null ? <span className="muted"> {m.version}</span> : null}
          </td>
          <td>
            {m.patientName ?? '—'}
            {m.patientKey !== null ? <span className="muted block">{m.patientKey}</span> : null}
          </td>
          <td>
            <StatusBadge status={m.status} />
            {m.errorCode !== null ? <span className="muted block">{m.errorCode}</span> : null}
          </td>
          <td>{formatMs(m.processingMs)}</td>
        </tr>
      ))}
    </ResultsTable>
  );
}
