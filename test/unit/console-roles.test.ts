/**
 * Console roles as scopes, and roles from an OpenID Connect ID token: every console scope is one
 * the engine's scope parser enforces, an analyst cannot deploy or touch queues, an admin can, and
 * the roles claim is read however the provider writes it.
 */
import { describe, expect, it } from 'vitest';
import { allowsResource, type AccessContext } from '../../engine/src/auth/access-context';
import { consoleRoleOf, rolesFromClaims } from '../../engine/src/auth/console-oidc';
import { scopesOf } from '../../engine/src/auth/console-roles';
import { parseScope } from '../../engine/src/auth/scope-grant';
import { sessionCookieOptions } from '../../engine/src/http/console-session-auth';

const ctx = (role: 'analyst' | 'admin'): AccessContext => ({ clientId: 'console', scopes: scopesOf(role) });

describe('console roles', () => {
  it('are written as scopes the parser enforces', () => {
    for (const scope of scopesOf('admin')) expect(parseScope(scope), scope).toBeDefined();
  });

  it('let an analyst read, search and replay messages, read and test mappings, but not deploy', () => {
    const analyst = ctx('analyst');
    for (const i of ['r', 's', 'u'] as const) expect(allowsResource(analyst, 'Message', i)).toBe(true);
    expect(allowsResource(analyst, 'Mapping', 'r')).toBe(true);
    expect(allowsResource(analyst, 'Mapping', 's')).toBe(true);
    expect(allowsResource(analyst, 'Delivery', 'u')).toBe(true);
    expect(allowsResource(analyst, 'Operations', 'r')).toBe(true);
    expect(allowsResource(analyst, 'IdentityReview', 'r')).toBe(true);
    expect(allowsResource(analyst, 'Mapping', 'u')).toBe(false);
    expect(allowsResource(analyst, 'Queue', 'u')).toBe(false);
    expect(allowsResource(analyst, 'Patient', 'r')).toBe(false);
    expect(allowsResource(analyst, 'Message', 'd')).toBe(false);
  });

  it('let an admin do what an analyst does, plus deploy and queues', () => {
    const admin = ctx('admin');
    for (const scope of scopesOf('analyst')) expect(admin.scopes).toContain(scope);
    expect(allowsResource(admin, 'Mapping', 'u')).toBe(true);
    expect(allowsResource(admin, 'Queue', 'u')).toBe(true);
  });
});

describe('roles from an ID token', () => {
  it('reads arrays, space- or comma-separated strings, and dotted paths', () => {
    expect(rolesFromClaims({ roles: ['analyst', 'x'] }, 'roles')).toEqual(['analyst', 'x']);
    expect(rolesFromClaims({ roles: 'analyst admin' }, 'roles')).toEqual(['analyst', 'admin']);
    expect(rolesFromClaims({ roles: 'analyst,admin' }, 'roles')).toEqual(['analyst', 'admin']);
    expect(rolesFromClaims({ realm_access: { roles: ['admin'] } }, 'realm_access.roles')).toEqual(['admin']);
    expect(rolesFromClaims({ 'https://example.org/roles': ['admin'] }, 'https://example.org/roles')).toEqual([
      'admin',
    ]);
    expect(rolesFromClaims({ roles: 42 }, 'roles')).toEqual([]);
    expect(rolesFromClaims({}, 'roles')).toEqual([]);
  });

  it('lets admin win and refuses neither', () => {
    expect(consoleRoleOf(['analyst', 'admin'])).toBe('admin');
    expect(consoleRoleOf(['Analyst'])).toBe('analyst');
    expect(consoleRoleOf(['viewer'])).toBeUndefined();
    expect(consoleRoleOf([])).toBeUndefined();
  });
});

describe('session cookie', () => {
  it('is Secure exactly when PUBLIC_URL is https', () => {
    expect(sessionCookieOptions('https://engine.example.org')).toMatchObject({
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: true,
    });
    expect(sessionCookieOptions('http://localhost:8080').secure).toBe(false);
  });
});
