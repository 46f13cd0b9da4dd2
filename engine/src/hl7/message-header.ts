/**
 * What ingest needs to know about a message before it is archived: who sent it, its control
 * ID, type and version, and which patient it concerns (for per-patient ordering).
 */
import { Hl7ErrorCode, Hl7ParseError } from './hl7-error';
import type { Hl7Message } from './parse-message';
import { getComponent, getRepetitions, getSegments, readValue, unescapeHl7 } from './read-value';

export interface MessageHeader {
  /** MSH-3.1, the sending application. */
  readonly sendingApplication: string;
  /** MSH-4.1, the sending facility. */
  readonly sendingFacility: string;
  /** `MSH-3^MSH-4`: the identity duplicates and overrides are keyed on. */
  readonly sender: string;
  /** MSH-10. */
  readonly controlId: string;
  /** MSH-9.1, e.g. ADT. */
  readonly messageType: string;
  /** MSH-9.2, e.g. A01; empty for ACK-like messages. */
  readonly triggerEvent: string;
  /** MSH-12.1, e.g. 2.5.1. */
  readonly version: string;
  /** MSH-18 as sent. */
  readonly charset?: string;
  /** `MSH-4|PID-3.1` of the first identifier; undefined when the message names no patient. */
  readonly patientKey?: string;
  /**
   * Further patients the message must be ordered with: the other groups' PID-3.1 and every
   * MRG-1.1 of a merge (ADT_A39 repeats `PID MRG` groups). Empty for most messages.
   */
  readonly otherPatientKeys: readonly string[];
}

/** `MSH-4|<id>` for the first identifier of each PID-3 and MRG-1, in message order, deduplicated. */
function readPatientKeys(message: Hl7Message, facility: string): string[] {
  const keys = new Set<string>();
  const d = message.delimiters;
  for (const [segment, field] of [
    ['PID', 3],
    ['MRG', 1],
  ] as const) {
    for (const s of getSegments(message, segment)) {
      const first = getRepetitions(s, field, d)[0];
      const id = first === undefined ? '' : unescapeHl7(getComponent(first, 1, d), d).trim();
      if (id !== '' && id !== '""') keys.add(`${facility}|${id}`);
    }
  }
  return [...keys];
}

/**
 * Reads the header. Throws Hl7ParseError when MSH-10 or MSH-9 is missing, because such a
 * message can be neither de-duplicated nor routed.
 */
export function readMessageHeader(message: Hl7Message): MessageHeader {
  const controlId = readValue(message, 'MSH-10');
  if (controlId === undefined) {
    throw new Hl7ParseError(Hl7ErrorCode.MissingControlId, 'MSH-10 (message control ID) is empty', 'MSH-10');
  }
  const messageType = readValue(message, 'MSH-9.1');
  if (messageType === undefined) {
    throw new Hl7ParseError(Hl7ErrorCode.MissingMessageType, 'MSH-9 (message type) is empty', 'MSH-9');
  }
  const sendingApplication = readValue(message, 'MSH-3.1') ?? '';
  const sendingFacility = readValue(message, 'MSH-4.1') ?? '';
  const [patientKey, ...otherPatientKeys] = readPatientKeys(message, sendingFacility);
  const charset = readValue(message, 'MSH-18');
  return {
    sendingApplication,
    sendingFacility,
    sender: `${sendingApplication}^${sendingFacility}`,
    controlId,
    messageType,
    triggerEvent: readValue(message, 'MSH-9.2') ?? '',
    version: readValue(message, 'MSH-12.1') ?? '2.5',
    ...(charset !== undefined ? { charset } : {}),
    ...(patientKey !== undefined ? { patientKey } : {}),
    otherPatientKeys,
  };
}
