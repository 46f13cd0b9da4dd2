/**
 * A real OpenID Connect provider (oidc-provider) on a loopback port, for console sign-in tests:
 * one confidential client, accounts whose ID tokens carry a `roles` claim, and interactions that
 * sign in whichever account the test names and consent at once, so the authorization code flow
 * runs end to end without a person.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type FoundAccount } from 'oidc-provider';

export interface MockOidcProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The account the next interaction signs in. */
  signInAs(accountId: string): void;
  close(): Promise<void>;
}

export interface MockOidcProviderOptions {
  /** The engine's callback, `${PUBLIC_URL}/console/auth/oidc/callback`. */
  readonly redirectUri: string;
  /** Each account's `roles` claim value; an account absent here has no `roles` claim. */
  readonly roles: Readonly<Record<string, string | readonly string[]>>;
  /** @defaultValue a free port */
  readonly port?: number;
}

interface ProviderContext {
  readonly oidc: { readonly client?: { readonly clientId: string } };
}

export async function startMockOidcProvider(o: MockOidcProviderOptions): Promise<MockOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const clientId = 'engine-console';
  const clientSecret = 'console-client-secret';
  let account = 'nobody';

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [o.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['mock-idp-cookie-key'] },
    findAccount: (_ctx: ProviderContext, id: string): FoundAccount => ({
      accountId: id,
      claims: () => ({
        sub: id,
        preferred_username: id,
        ...(o.roles[id] !== undefined ? { roles: o.roles[id] } : {}),
      }),
    }),
    claims: { openid: ['sub'], profile: ['preferred_username', 'roles'] },
    // Roles in the ID token itself, as Keycloak, Entra ID and Okta can be set to do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx: ProviderContext, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
  });

  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (!(req.url ?? '').startsWith('/interaction/')) {
      handle(req, res);
      return;
    }
    // No login page: sign in the chosen account, then grant what was asked.
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: account } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const grant = new provider.Grant({ accountId: details.session?.accountId ?? account, clientId });
      grant.addOIDCScope(String(details.params['scope']));
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    })().catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });

  return {
    issuer,
    clientId,
    clientSecret,
    signInAs: (id) => {
      account = id;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
