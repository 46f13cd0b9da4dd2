/**
 * The frame around every screen once signed in: the screens as a navigation list (the current one
 * marked for screen readers), who is signed in with which role, and sign-out.
 */
import { useEffect, type ReactElement, type ReactNode } from 'react';
import { Badge } from '../../components/badge';
import { ApiErrorNotice } from '../common/api-error-notice';
import { routeHref, type ConsoleScreen } from '../routing/console-route';
import { RouteLink } from '../routing/console-navigation';
import { EMPTY_FILTER } from '../messages/message-filter';
import { useSignOut, type SignedInSession } from '../session/console-session';

export interface ConsoleShellProps {
  readonly session: SignedInSession;
  readonly screen: ConsoleScreen;
  readonly children: ReactNode;
}

const NAV: readonly {
  readonly label: string;
  readonly href: string;
  readonly screens: readonly ConsoleScreen[];
}[] = [
  {
    label: 'Messages',
    href: routeHref({ screen: 'messages', filter: EMPTY_FILTER }),
    screens: ['messages', 'message'],
  },
  { label: 'Errors', href: routeHref({ screen: 'errors' }), screens: ['errors'] },
  { label: 'Mappings', href: routeHref({ screen: 'mappings' }), screens: ['mappings'] },
  { label: 'Operations', href: routeHref({ screen: 'operations' }), screens: ['operations'] },
];

export function ConsoleShell({ session, screen, children }: ConsoleShellProps): ReactElement {
  const signOut = useSignOut();
  const current = NAV.find((item) => item.screens.includes(screen))?.label;

  useEffect(() => {
    // Tabs and history entries say which screen they are.
    document.title = current !== undefined ? `${current} · Analyst console` : 'Analyst console';
  }, [current]);

  return (
    <div className="console">
      <header className="console-head">
        <p className="console-title">Analyst console</p>
        <nav aria-label="Console">
          <ul className="console-nav">
            {NAV.map((item) => {
              const current = item.screens.includes(screen);
              return (
                <li key={item.label}>
                  <RouteLink href={item.href} {...(current ? { 'aria-current': 'page' as const } : {})}>
                    {item.label}
                  </RouteLink>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="console-user">
          <span>
            {session.user.name} <Badge tone="muted">{session.user.role}</Badge>
          </span>
          <button
            type="button"
            onClick={() => {
              signOut.mutate();
            }}
            disabled={signOut.isPending}
          >
            Sign out
          </button>
        </div>
      </header>
      {signOut.isError ? <ApiErrorNotice error={signOut.error} title="Could not sign out" /> : null}
      <main className="console-main">{children}</main>
    </div>
  );
}
