/**
 * Builds the ACK a sender gets: in the message's own version, MSA-2 echoing its MSH-10, a
 * fresh MSH-10 of its own, and an ERR segment on AE/AR so the sender's analyst knows why.
 */
import { randomBytes } from 'node:crypto';

export const AckCode = { Accept: 'AA', Error: 'AE', Reject: 'AR' } as const;
export type AckCode = (typeof AckCode)[keyof typeof AckCode];

/** HL7 table 0357 codes used in ERR-3. */
export const AckErrorCode = {
  SegmentSequence: '100',
  RequiredFieldMissing: '101',
  DataTypeError: '102',
  UnsupportedMessageType: '200',
  UnsupportedVersion: '203',
  UnknownKeyIdentifier: '204',
  ApplicationRecordLocked: '206',
  ApplicationInternalError: '207',
} as const;
export type AckErrorCode = (typeof AckErrorCode)[keyof typeof AckErrorCode];

const ERROR_TEXT: Record<AckErrorCode, string> = {
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '200': 'Unsupported message type',
  '203': 'Unsupported version ID',
  '204': 'Unknown key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

export interface AckInput {
  readonly code: AckCode;
  /** What we know of the original; fields are empty when the message could not be read. */
  readonly original: {
    readonly controlId?: string | undefined;
    readonly sendingApplication?: string | undefined;
    readonly sendingFacility?: string | undefined;
    readonly triggerEvent?: string | undefined;
    readonly version?: string | undefined;
    readonly processingId?: string | undefined;
  };
  readonly error?: {
    readonly code: AckErrorCode;
    /** Free text for the sender's analyst: no PHI, only what was wrong. */
    readonly text: string;
    /** e.g. `MSH-10` or `MSH^1^10`. */
    readonly location?: string;
  };
  /** Our identity in MSH-3/MSH-4. @defaultValue CARE^CARE */
  readonly receivingApplication?: string;
  readonly receivingFacility?: string;
  /** Override for tests. */
  readonly now?: Date;
}

let counter = 0;
const PROCESS_TAG = randomBytes(3).toString('hex');

/** A control ID unique across processes and restarts, within HL7's 20-character ST limit. */
export function newAckControlId(): string {
  counter = (counter + 1) % 1_679_616; // 36^4
  return `A${Date.now().toString(36)}${PROCESS_TAG}${counter.toString(36).padStart(4, '0')}`.slice(0, 20);
}

/** Renders the ACK as HL7 text with CR segment separators. */
export function buildAck(input: AckInput): string {
  const o = input.original;
  const version = o.version ?? '2.5';
  const msh = [
    'MSH',
    '^~\\&',
    input.receivingApplication ?? 'CARE',
    input.receivingFacility ?? 'CARE',
    esc(o.sendingApplication ?? ''),
    esc(o.sendingFacility ?? ''),
    formatTimestamp(input.now ?? new Date()),
    '',
    o.triggerEvent === undefined ? 'ACK' : `ACK^${esc(o.triggerEvent)}^ACK`,
    newAckControlId(),
    esc(o.processingId ?? 'P'),
    esc(version),
  ].join('|');
  const legacy = isBefore25(version);
  const msaText = legacy && input.error !== undefined ? esc(input.error.text) : '';
  const msa = ['MSA', input.code, esc(o.controlId ?? ''), msaText].join('|').replace(/\|+$/, '');
  const segments = [msh, msa];
  if (input.error !== undefined) segments.push(buildErr(input.error, legacy));
  return segments.join('\r') + '\r';
}

function buildErr(error: NonNullable<AckInput['error']>, legacy: boolean): string {
  // `MSH-10` is segment MSH, first occurrence, field 10; a bare `MSH` names the segment only.
  const [seg = '', field = ''] = (error.location ?? '').split('-');
  const sequence = seg === '' ? '' : '1';
  if (legacy) {
    // v2.3/2.4: ERR-1 is an ELD: segment^sequence^field^code&text&table.
    const code = `${error.code}&${ERROR_TEXT[error.code]}&HL70357`;
    return `ERR|${[esc(seg), sequence, esc(field), code].join('^')}`;
  }
  const location = [esc(seg), sequence, esc(field)].join('^').replace(/\^+$/, '');
  const cwe = `${error.code}^${ERROR_TEXT[error.code]}^HL70357`;
  return ['ERR', '', location, cwe, 'E', '', '', '', esc(error.text)].join('|');
}

function isBefore25(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major < 2 || (major === 2 && minor < 5);
}

function esc(value: string): string {
  return value.replace(
    // Control characters (a VT or FS decoded from \X0B\, say) would break the ACK's own framing.
    // eslint-disable-next-line no-control-regex -- matching them is the point
    /[\\|^~&\x00-\x1f\x7f]/g,
    (c) => ({ '\\': '\\E\\', '|': '\\F\\', '^': '\\S\\', '~': '\\R\\', '&': '\\T\\' })[c] ?? ' ',
  );
}

/** HL7 DTM with seconds and offset, e.g. 20261125011500+0000. */
export function formatTimestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}
