/**
 * Why a message cannot be read at all. The code decides the ACK (AR) and is what an analyst
 * searches for; the text says what to fix.
 */
export const Hl7ErrorCode = {
  NoMsh: 'no-msh',
  BadEncodingCharacters: 'bad-encoding-characters',
  MissingControlId: 'missing-control-id',
  MissingMessageType: 'missing-message-type',
  BadSegment: 'bad-segment',
  Binary: 'binary-content',
} as const;
export type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

export class Hl7ParseError extends Error {
  override readonly name = 'Hl7ParseError';
  readonly code: Hl7ErrorCode;
  /** HL7 location the problem is at, e.g. `MSH-2` or `segment 3`. */
  readonly location: string | undefined;
  constructor(code: Hl7ErrorCode, message: string, location?: string) {
    super(message);
    this.code = code;
    this.location = location;
  }
}

/** True for an Hl7ParseError even after it lost its prototype (worker threads, Redis). */
export function isHl7ParseError(err: unknown): err is Hl7ParseError {
  return err instanceof Error && err.name === 'Hl7ParseError';
}
