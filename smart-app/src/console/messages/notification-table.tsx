/** The notices a message caused (admission, discharge, critical result) and where each one stands. */
import type { ReactElement } from 'react';
import type { MessageNotification } from '../api/api-types';
import { formatInstant } from '../common/console-format';
import { ResultsTable } from '../common/results-table';
import { StatusBadge } from '../common/status-badge';

const COLUMNS = ['Event', 'Channel', 'Target', 'State', 'Attempts', 'Delivered'];

export function NotificationTable({
  notifications,
}: {
  readonly notifications: readonly MessageNotification[];
}): ReactElement {
  return (
    <ResultsTable className="notifications" caption="Notifications" columns={COLUMNS}>
      {notifications.map((n) => (
        <tr key={n.id}>
          <td>{n.event}</td>
          <td>{n.channel}</td>
          <td className="break">{n.target}</td>
          <td>
            <StatusBadge status={n.status} />
            {n.lastError !== undefined ? <span className="muted block">{n.lastError}</span> : null}
          </td>
          <td>{n.attempts}</td>
          <td>{formatInstant(n.deliveredAt)}</td>
        </tr>
      ))}
    </ResultsTable>
  );
}
