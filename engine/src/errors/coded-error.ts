/**
 * The one shape of this codebase's errors: a stable machine `code` beside a human message, and
 * whether trying again can help. Callers branch on the code, never on message text, and retry
 * policy reads `transient`, so no function keeps a list of error names. Kinds are told apart by
 * `name` (after ky's isErrorType), so copies of a class from two module graphs agree; a shape
 * that crossed Redis or a thread is a plain object, which `isTransient` still reads.
 */

export interface CodedErrorOptions extends ErrorOptions {
  /**
   * True when the same work may succeed later (a store or queue away); false when it never will.
   * @defaultValue false: a coded error describes the input or the setup, which a retry does not change
   */
  readonly transient?: boolean;
}

export class CodedError<C extends string> extends Error {
  readonly code: C;
  readonly transient: boolean;

  /**
   * @param code - what went wrong, for machines.
   * @param message - what went wrong, for people; never PHI or secrets.
   */
  constructor(code: C, message: string, options?: CodedErrorOptions) {
    super(message, options);
    this.code = code;
    this.transient = options?.transient ?? false;
  }
}

/**
 * A guard recognising an error kind by its `name`, so two copies of a class (two module graphs,
 * a bundled dependency) still agree. It needs an Error: a plain object that crossed Redis or a
 * thread is not one, and `isTransient` reads such objects instead. The name is checked against
 * the class's literal `name`, so a guard cannot be given the wrong one.
 */
export function errorGuard<T extends Error>(name: T['name']): (err: unknown) => err is T {
  return (err: unknown): err is T => err instanceof Error && err.name === name;
}

/**
 * Whether a failure is worth retrying. An error that says so (a CodedError, or one carrying a
 * boolean `transient`) is believed; anything else (a dropped connection, a timeout, a driver
 * error) is taken as transient, because giving up on a message that a retry would save loses it,
 * while retrying a hopeless one only costs the attempts before it is marked failed.
 */
export function isTransient(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && 'transient' in err) {
    const flag = err.transient;
    if (typeof flag === 'boolean') return flag;
  }
  return true;
}
