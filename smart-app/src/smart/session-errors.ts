/**
 * Why the app cannot go on, as values the screen can tell apart. Each says what the user does
 * next (open the app from the EHR, launch it again), because a SMART app has no login of its own.
 * Checked by `name`, which survives being passed through TanStack Query and across realms.
 */

/** The page was opened without an EHR launch (or its launch state is gone). */
export class LaunchRequiredError extends Error {
  override readonly name = 'LaunchRequiredError';
  constructor(detail = 'This page was opened without a launch from the EHR.') {
    super(detail);
  }
}

/** The EHR session (or the engine token made from it) expired and could not be refreshed. */
export class SessionExpiredError extends Error {
  override readonly name = 'SessionExpiredError';
  constructor(detail = 'The EHR session has ended.') {
    super(detail);
  }
}

/** The EHR or the engine refused the launch itself (denied access, an unregistered EHR ...). */
export class LaunchFailedError extends Error {
  override readonly name = 'LaunchFailedError';
}

export type SessionErrorName = 'LaunchRequiredError' | 'SessionExpiredError' | 'LaunchFailedError';

/** Whether `err` is the session error called `name`. */
export function isSessionError(err: unknown, name: SessionErrorName): boolean {
  return err instanceof Error && err.name === name;
}
