/**
 * A native details/summary whose content is rendered only once opened: a 500-event timeline
 * would otherwise build every lab table up front, most of which nobody opens.
 */
import { useState, type ReactElement, type ReactNode } from 'react';

export interface DisclosureProps {
  readonly summary: string;
  readonly children: () => ReactNode;
  readonly className?: string;
  /** Open (and so rendered) from the start. */
  readonly defaultOpen?: boolean;
}

export function Disclosure({
  summary,
  children,
  className,
  defaultOpen = false,
}: DisclosureProps): ReactElement {
  const [open, setOpen] = useState(defaultOpen);
  return (
    <details
      className={className}
      open={open}
      onToggle={(e) => {
        setOpen(e.currentTarget.open);
      }}
    >
      <summary>{summary}</summary>
      {open ? children() : null}
    </details>
  );
}
