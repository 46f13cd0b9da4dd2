/**
 * Loading, empty and error states in one shape: a heading that says what is going on and a line
 * that says what to do. Loading is a polite status; errors are alerts.
 */
import type { ReactElement, ReactNode } from 'react';

export interface StatusPanelProps {
  readonly kind: 'loading' | 'empty' | 'error';
  readonly title: string;
  readonly children?: ReactNode;
}

export function StatusPanel({ kind, title, children }: StatusPanelProps): ReactElement {
  return (
    <div className={`status status-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <p className="status-title">{title}</p>
      {children}
    </div>
  );
}
