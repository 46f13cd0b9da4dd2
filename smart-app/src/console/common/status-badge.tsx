/** A message's or a delivery's state as a badge whose colour and word agree (never colour alone). */
import type { ReactElement } from 'react';

const TONE: Record<string, string> = {
  processed: 'badge-ok',
  delivered: 'badge-ok',
  pass: 'badge-ok',
  completed: 'badge-ok',
  failed: 'badge-critical',
  fail: 'badge-critical',
  rejected: 'badge-critical',
  error: 'badge-critical',
  fatal: 'badge-critical',
  warning: 'badge-abnormal',
  changed: 'badge-abnormal',
  unchanged: 'badge-muted',
  retrying: 'badge-abnormal',
  received: 'badge-info',
  pending: 'badge-info',
  waiting: 'badge-info',
  active: 'badge-info',
};

export function StatusBadge({ status }: { readonly status: string }): ReactElement {
  return <span className={`badge ${TONE[status] ?? 'badge-muted'}`}>{status}</span>;
}
