/**
 * The one shape of this codebase's errors: a stable machine `code` beside a human message.
 * Callers branch on the code, never on message text, and tell kinds apart by `name`, because
 * errors lose their prototype when they cross worker threads or Redis (after ky's isErrorType).
 */
export class CodedError<C extends string> extends Error {
  readonly code: C;

  /**
   * @param code - what went wrong, for machines.
   * @param message - what went wrong, for people; never PHI or secrets.
   */
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A guard recognising an error kind by its `name`, even after it lost its prototype. The name is
 * checked against the class's literal `name`, so a guard cannot be given the wrong one.
 */
export function errorGuard<T extends Error>(name: T['name']): (err: unknown) => err is T {
  return (err: unknown): err is T => err instanceof Error && err.name === name;
}
