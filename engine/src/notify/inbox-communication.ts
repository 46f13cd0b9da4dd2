/**
 * The inbox: a notice kept in the engine as a FHIR `Communication` addressed to the practice's
 * role, for the SMART app to list. Read state is `Communication.received`: unset until a user of
 * the practice opens it. Pure: the notify stage stores what this builds.
 */
import type { JsonObject } from '../store/fhir-json';

export const INBOX_CATEGORY_SYSTEM = 'https://care-coordination.org/fhir/CodeSystem/notification-event';

const TEXT: Readonly<Record<string, string>> = {
  admit: 'Admitted',
  'ed-arrival': 'Seen in the emergency department',
  transfer: 'Transferred',
  discharge: 'Discharged',
  death: 'Died',
  cancellation: 'An earlier event was cancelled',
  'critical-result': 'Critical or abnormal result',
};

export interface InboxNotice {
  readonly noticeId: string;
  readonly kind: string;
  readonly correction: boolean;
  readonly patient: string;
  /** `Type/id` of the event's resource (no version: the inbox shows what is current). */
  readonly about: string;
  readonly recipients: readonly string[];
  readonly sent: string;
}

/** The Communication for one inbox notice; its id is the notice id, so a redo rewrites, never adds. */
export function buildInboxCommunication(n: InboxNotice): JsonObject {
  const text = `${TEXT[n.kind] ?? n.kind}${n.correction ? ' (corrected)' : ''}`;
  return {
    resourceType: 'Communication',
    id: n.noticeId,
    identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${n.noticeId}` }],
    status: 'completed',
    category: [{ coding: [{ system: INBOX_CATEGORY_SYSTEM, code: n.kind }], text }],
    priority: n.kind === 'critical-result' || n.kind === 'death' ? 'urgent' : 'routine',
    subject: { reference: n.patient },
    about: [{ reference: n.about }],
    recipient: n.recipients.map((reference) => ({ reference })),
    sent: n.sent,
    payload: [{ contentString: text }],
  };
}
