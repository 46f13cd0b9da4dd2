/**
 * Client-side navigation on the history API: links change the address without reloading the page
 * (the session, the query cache and an open editor survive), and the back button works because
 * the screen is always derived from the address.
 */
import { useSyncExternalStore, type MouseEvent, type ReactElement, type ReactNode } from 'react';

/** Fired on window after the console itself changes the address (pushState fires nothing). */
const NAVIGATED = 'console:navigated';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

function snapshot(): string {
  return `${window.location.pathname}${window.location.search}`;
}

/** The current address (path and query), re-rendering on every change. */
export function useConsoleLocation(): { readonly pathname: string; readonly search: string } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, 'http://console.invalid');
  return { pathname: url.pathname, search: url.search };
}

/** Goes to an address of the console. */
export function navigate(href: string, o: { readonly replace?: boolean } = {}): void {
  if (href === snapshot()) return;
  if (o.replace === true) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATED));
}

export interface RouteLinkProps {
  readonly href: string;
  readonly children: ReactNode;
  readonly className?: string;
  readonly 'aria-current'?: 'page';
}

/** An ordinary link (open in a new tab works) that navigates in place on a plain click. */
export function RouteLink({ href, children, className, ...rest }: RouteLinkProps): ReactElement {
  const onClick = (e: MouseEvent<HTMLAnchorElement>): void => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} className={className} onClick={onClick} aria-current={rest['aria-current']}>
      {children}
    </a>
  );
}
