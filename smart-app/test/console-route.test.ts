// The console's addresses: every screen has one under /console/ (deep links the engine answers
// with the console page), mapping paths keep their slashes, and anything else is "not found"
// rather than a wrong screen.
import { describe, expect, it } from 'vitest';
import { EMPTY_FILTER } from '../src/console/messages/message-filter';
import { parseRoute, routeHref, type ConsoleRoute } from '../src/console/routing/console-route';

describe('console routes', () => {
  it('parses each screen’s address', () => {
    expect(parseRoute('/console/', '')).toEqual({ screen: 'messages', filter: EMPTY_FILTER });
    expect(parseRoute('/console', '')).toEqual({ screen: 'messages', filter: EMPTY_FILTER });
    expect(parseRoute('/console/messages', '?status=failed')).toEqual({
      screen: 'messages',
      filter: { ...EMPTY_FILTER, status: 'failed' },
    });
    expect(parseRoute('/console/messages/42', '')).toEqual({ screen: 'message', id: '42' });
    expect(parseRoute('/console/errors', '')).toEqual({ screen: 'errors' });
    expect(parseRoute('/console/operations', '')).toEqual({ screen: 'operations' });
    expect(parseRoute('/console/mappings', '')).toEqual({ screen: 'mappings' });
    expect(parseRoute('/console/mappings/rules/patient.yaml', '?message=42')).toEqual({
      screen: 'mappings',
      path: 'rules/patient.yaml',
      messageId: '42',
    });
  });

  it('refuses what is no screen', () => {
    expect(parseRoute('/console/messages/abc', '').screen).toBe('not-found');
    expect(parseRoute('/console/nothing', '').screen).toBe('not-found');
    expect(parseRoute('/app/', '').screen).toBe('not-found');
    expect(parseRoute('/console/mappings/%E0%A4%A', '').screen).toBe('not-found');
    expect(parseRoute('/console/mappings/adt.yaml', '?message=1;drop')).toEqual({
      screen: 'mappings',
      path: 'adt.yaml',
    });
  });

  it('builds addresses that parse back to the same route', () => {
    const routes: ConsoleRoute[] = [
      { screen: 'messages', filter: { ...EMPTY_FILTER, name: 'Müller, Jörg', status: 'failed' } },
      { screen: 'message', id: '7' },
      { screen: 'errors' },
      { screen: 'operations' },
      { screen: 'mappings', path: 'senders/NORTH WIND/adt.yaml', messageId: '9' },
    ];
    for (const r of routes) {
      const url = new URL(routeHref(r), 'http://x');
      expect(parseRoute(url.pathname, url.search)).toEqual(r);
    }
    expect(routeHref({ screen: 'mappings', path: 'rules/patient.yaml' })).toBe(
      '/console/mappings/rules/patient.yaml',
    );
  });
});
