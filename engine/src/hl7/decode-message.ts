/**
 * Turns frame bytes into text using the character set the sender declares in MSH-18, so
 * names with accents survive; UTF-8 is assumed when MSH-18 is empty.
 */

const CHARSETS: Record<string, BufferEncoding> = {
  ASCII: 'ascii',
  '8859/1': 'latin1',
  'UNICODE UTF-8': 'utf8',
  'UTF-8': 'utf8',
  UNICODE: 'utf8',
};

export interface DecodedMessage {
  readonly text: string;
  /** MSH-18 as sent, or undefined. */
  readonly charset?: string;
  /** The Node encoding actually used. */
  readonly encoding: BufferEncoding;
}

/** Decodes a payload per MSH-18; bytes with NULs or mostly control characters are binary. */
export function decodeMessage(payload: Buffer): DecodedMessage {
  const charset = readCharset(payload);
  const encoding = (charset !== undefined ? CHARSETS[charset.toUpperCase()] : undefined) ?? 'utf8';
  return { text: payload.toString(encoding), encoding, ...(charset !== undefined ? { charset } : {}) };
}

/** True when the payload is plainly not text (NUL bytes), so it can be refused before parsing. */
export function looksBinary(payload: Buffer): boolean {
  return payload.includes(0);
}

function readCharset(payload: Buffer): string | undefined {
  // MSH is ASCII by rule, so reading it as latin1 is safe whatever the body's encoding.
  const head = payload.subarray(0, 2048).toString('latin1');
  const start = head.indexOf('MSH');
  if (start < 0) return undefined;
  const end = head.slice(start).search(/[\r\n]/);
  const msh = end < 0 ? head.slice(start) : head.slice(start, start + end);
  const sep = msh.charAt(3);
  if (sep === '') return undefined;
  const fields = msh.split(sep);
  // fields[0] is "MSH", fields[1] the encoding characters (MSH-2), so MSH-n is fields[n - 1].
  const value = fields[17]?.split(msh.charAt(4))[0]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
