/** A message's or a delivery's state as a badge whose colour and word agree (never colour alone). */
import type { ReactElement } from 'react';
import { Badge, type BadgeTone } from '../../components/badge';

const TONE: Readonly<Record<string, BadgeTone>> = {
  processed: 'ok',
  delivered: 'ok',
  pass: 'ok',
  completed: 'ok',
  failed: 'critical',
  fail: 'critical',
  rejected: 'critical',
  error: 'critical',
  fatal: 'critical',
  warning: 'abnormal',
  changed: 'abnormal',
  unchanged: 'muted',
  retrying: 'abnormal',
  received: 'info',
  pending: 'info',
  waiting: 'info',
  active: 'info',
};

export function StatusBadge({ status }: { readonly status: string }): ReactElement {
  return <Badge tone={TONE[status] ?? 'muted'}>{status}</Badge>;
}
