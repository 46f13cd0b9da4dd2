/**
 * The console's screens as addresses under `/console/`, so every screen (a message, a search, a
 * mapping file) can be bookmarked, reloaded and sent to a colleague. The engine answers every
 * `/console/*` with the console page, and this parses what the address means.
 */
import { filterFromSearch, filterToSearch, type MessageFilter } from '../messages/message-filter';

export const CONSOLE_BASE = '/console/';

export type ConsoleRoute =
  | { readonly screen: 'messages'; readonly filter: MessageFilter }
  | { readonly screen: 'message'; readonly id: string }
  | { readonly screen: 'errors' }
  | { readonly screen: 'mappings'; readonly path?: string; readonly messageId?: string }
  | { readonly screen: 'operations' }
  | { readonly screen: 'not-found'; readonly path: string };

export type ConsoleScreen = ConsoleRoute['screen'];

function decodeSegments(segments: readonly string[]): string | undefined {
  try {
    return segments.map((s) => decodeURIComponent(s)).join('/');
  } catch {
    return undefined;
  }
}

/** The route an address stands for. */
export function parseRoute(pathname: string, search: string): ConsoleRoute {
  const rest = pathname.startsWith(CONSOLE_BASE)
    ? pathname.slice(CONSOLE_BASE.length)
    : pathname === '/console'
      ? ''
      : undefined;
  if (rest === undefined) return { screen: 'not-found', path: pathname };
  const segments = rest.split('/').filter((s) => s !== '');
  const [head, ...tail] = segments;
  const params = new URLSearchParams(search);
  switch (head) {
    case undefined:
      return { screen: 'messages', filter: filterFromSearch(params) };
    case 'messages':
      if (tail.length === 0) return { screen: 'messages', filter: filterFromSearch(params) };
      if (tail.length === 1 && /^\d{1,19}$/.test(tail[0] ?? '')) {
        return { screen: 'message', id: tail[0] ?? '' };
      }
      break;
    case 'errors':
      if (tail.length === 0) return { screen: 'errors' };
      break;
    case 'operations':
      if (tail.length === 0) return { screen: 'operations' };
      break;
    case 'mappings': {
      const path = tail.length === 0 ? undefined : decodeSegments(tail);
      if (tail.length > 0 && path === undefined) break;
      const messageId = params.get('message') ?? '';
      return {
        screen: 'mappings',
        ...(path !== undefined ? { path } : {}),
        ...(/^\d{1,19}$/.test(messageId) ? { messageId } : {}),
      };
    }
    default:
      break;
  }
  return { screen: 'not-found', path: pathname };
}

/** A mapping path in an address or API URL: each segment encoded, the slashes kept. */
export function encodeMappingPath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/** The address of a route. */
export function routeHref(route: ConsoleRoute): string {
  switch (route.screen) {
    case 'messages':
      return `${CONSOLE_BASE}messages${filterToSearch(route.filter)}`;
    case 'message':
      return `${CONSOLE_BASE}messages/${encodeURIComponent(route.id)}`;
    case 'errors':
      return `${CONSOLE_BASE}errors`;
    case 'operations':
      return `${CONSOLE_BASE}operations`;
    case 'mappings': {
      const path = route.path !== undefined ? `/${encodeMappingPath(route.path)}` : '';
      const query = route.messageId !== undefined ? `?message=${encodeURIComponent(route.messageId)}` : '';
      return `${CONSOLE_BASE}mappings${path}${query}`;
    }
    case 'not-found':
      return route.path;
  }
}
