/**
 * Errors as one log field: a code and a one-line message, never a multi-line stack or the data
 * that caused them (a driver's message can quote a value; codes and names cannot).
 */

/** `{ code, message }` of any thrown value, on one line. */
export function describeError(err: unknown): { code: string; message: string } {
  if (!(err instanceof Error)) return { code: 'unknown', message: String(err).split('\n')[0] ?? '' };
  const code = (err as { code?: unknown }).code;
  return {
    code: typeof code === 'string' ? code : err.name,
    message: (err.message.split('\n')[0] ?? '').slice(0, 300),
  };
}
