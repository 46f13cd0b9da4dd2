/** The notices a message caused (admission, discharge, critical result) and where each one stands. */
import type { ReactElement } from 'react';
import type { MessageNotification } from '../api/api-types';
import { formatInstant } from '../common/console-format';
import { StatusBadge } from '../common/status-badge';

export function NotificationTable({
  notifications,
}: {
  readonly notifications: readonly MessageNotification[];
}): ReactElement {
  return (
    <div className="table-scroll">
      <table className="results notifications">
        <caption className="visually-hidden">Notifications</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Channel</th>
            <th scope="col">Target</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Delivered</th>
          </tr>
        </thead>
        <tbody>
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
        </tbody>
      </table>
    </div>
  );
}
