/**
 * Errors as one log field: a code and a one-line message, never a multi-line stack or the data
 * that caused them (a driver's message can quote a value; codes and names cannot).
 */

/** `{ code, message }` of any thrown value, on one line. */
export function describeError(err: unknown): { code: string; message: string } {
  if (!(err instanceof Error)) return { code: 'unknown', message: firstLine(String(err)) };
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : err.name, message: firstLine(err.message) };
}

/** Up to the first line break of any kind: HL7 separates segments with CR, and a quoted message
 * must not carry its next segments (patient data) into a log line. */
function firstLine(text: string): string {
  return (text.split(/\r\n|\r|\n/)[0] ?? '').slice(0, 300);
}
