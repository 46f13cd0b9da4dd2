/**
 * Sign-in: a name and password checked by the engine (`POST /console/auth/login`), or the
 * organisation's OpenID Connect provider when the engine has one. A wrong name and a wrong
 * password read the same, as the engine answers them the same; too many attempts say how long to
 * wait.
 */
import { useState, type SubmitEvent, type ReactElement } from 'react';
import { isConsoleApiError } from '../api/api-error';
import type { SignInMethods } from '../api/api-types';
import { Field } from '../common/field';
import { useSignIn } from '../session/console-session';

export interface SignInScreenProps {
  readonly methods: SignInMethods;
  /** The previous session ended (expired, signed out elsewhere). */
  readonly ended: boolean;
}

function failureText(error: unknown): string {
  if (!isConsoleApiError(error)) return 'Sign-in failed.';
  switch (error.kind) {
    case 'unauthenticated':
      return 'The user name or password is not right.';
    case 'rate-limited':
      return error.message;
    case 'forbidden':
    case 'not-found':
    case 'conflict':
    case 'stale':
    case 'precondition-required':
    case 'invalid':
    case 'unavailable':
    case 'network':
    case 'server':
      return `Sign-in failed: ${error.message}`;
  }
}

export function SignInScreen({ methods, ended }: SignInScreenProps): ReactElement {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useSignIn(methods);

  const onSubmit = (e: SubmitEvent<HTMLFormElement>): void => {
    e.preventDefault();
    signIn.mutate(
      { username: username.trim(), password },
      {
        onError: () => {
          setPassword('');
        },
      },
    );
  };

  return (
    <main className="sign-in" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Analyst console</h1>
      <p className="note">
        Messages, errors, replay and the mapping workbench of the care-coordination engine.
      </p>
      {ended ? (
        <p className="status" role="status">
          Your session has ended. Sign in again.
        </p>
      ) : null}
      {methods.password ? (
        <form className="sign-in-form" onSubmit={onSubmit} aria-describedby="sign-in-error">
          <Field
            id="sign-in-username"
            label="User name"
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={setUsername}
          />
          <Field
            id="sign-in-password"
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={setPassword}
          />
          <button type="submit" className="primary" disabled={signIn.isPending}>
            {signIn.isPending ? 'Signing in…' : 'Sign in'}
          </button>
          <div id="sign-in-error">
            {signIn.isError ? (
              <p className="status status-error" role="alert">
                {failureText(signIn.error)}
              </p>
            ) : null}
          </div>
        </form>
      ) : null}
      {methods.oidc ? (
        <p>
          <a className="button-link" href="/console/auth/oidc/login">
            Sign in with OpenID Connect
          </a>
        </p>
      ) : null}
      {!methods.password && !methods.oidc ? (
        <p className="status status-error" role="alert">
          No sign-in method is configured: set CONSOLE_USERS_FILE or CONSOLE_OIDC_ISSUER on the engine.
        </p>
      ) : null}
    </main>
  );
}
