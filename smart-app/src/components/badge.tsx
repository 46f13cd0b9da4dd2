/**
 * The small marks on timeline items (New, Critical high, Corrected ...). Always words, never only
 * a colour, so they read the same to a screen reader and to someone who cannot tell red from green.
 */
import type { ReactElement } from 'react';
import type { ResultFlag } from '../timeline/timeline-types';

/** `ok` is the analyst console's (processed, delivered, passed). */
export type BadgeTone = 'critical' | 'abnormal' | 'corrected' | 'new' | 'info' | 'muted' | 'ok';

export function Badge({
  tone,
  children,
}: {
  readonly tone: BadgeTone;
  readonly children: string;
}): ReactElement {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** A result flag as a badge; nothing for normal or unflagged results. */
export function FlagBadge({ flag }: { readonly flag: ResultFlag }): ReactElement | null {
  if (flag.severity === 'critical') return <Badge tone="critical">{flag.label}</Badge>;
  if (flag.severity === 'abnormal') return <Badge tone="abnormal">{flag.label}</Badge>;
  return null;
}
