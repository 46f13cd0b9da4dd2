/**
 * Why a message cannot be read at all. The code decides the ACK (AR) and is what an analyst
 * searches for; the text says what to fix.
 */
import { CodedError, errorGuard } from '../errors/coded-error';
export const Hl7ErrorCode = {
  NoMsh: 'no-msh',
  BadEncodingCharacters: 'bad-encoding-characters',
  MissingControlId: 'missing-control-id',
  MissingMessageType: 'missing-message-type',
  BadSegment: 'bad-segment',
  Binary: 'binary-content',
} as const;
export type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

export class Hl7ParseError extends CodedError<Hl7ErrorCode> {
  override readonly name = 'Hl7ParseError';
  /** HL7 location the problem is at, e.g. `MSH-2` or `segment 3`. */
  readonly location: string | undefined;
  constructor(code: Hl7ErrorCode, message: string, location?: string) {
    super(code, message);
    this.location = location;
  }
}

/** True for an Hl7ParseError, told by name (so two copies of the class agree). */
export const isHl7ParseError = errorGuard<Hl7ParseError>('Hl7ParseError');
