/**
 * The practice inbox as the engine keeps it: one FHIR Communication per notice, its category code
 * the event kind (admit, ed-arrival, transfer, discharge, death, cancellation, critical-result) and
 * `received` unset until someone at the practice opened it.
 */
import type { Bundle, Communication } from '../fhir/fhir-resources';
import { fhirTime } from './fhir-time';
import { messageIdOf } from './provenance';

export const NOTIFICATION_EVENT_SYSTEM = 'https://care-coordination.org/fhir/CodeSystem/notification-event';

export interface InboxNotice {
  readonly id: string;
  readonly kind: string;
  readonly text: string;
  readonly sent?: string;
  readonly sentTime: number;
  readonly read: boolean;
  readonly urgent: boolean;
  /** `Type/id` of the resource the notice is about (the Encounter, the Observation). */
  readonly about?: string;
  readonly messageId?: string;
  readonly receivedAt?: string;
}

const KIND_TEXT: Readonly<Record<string, string>> = {
  admit: 'Admitted',
  'ed-arrival': 'Seen in the emergency department',
  transfer: 'Transferred',
  discharge: 'Discharged',
  death: 'Died',
  cancellation: 'An earlier event was cancelled',
  'critical-result': 'Critical or abnormal result',
};

function noticeOf(c: Communication): InboxNotice {
  const category = c.category?.find((k) => k.coding?.some((x) => x.system === NOTIFICATION_EVENT_SYSTEM));
  const coding = category?.coding?.find((x) => x.system === NOTIFICATION_EVENT_SYSTEM);
  const kind = coding?.code ?? c.category?.[0]?.coding?.[0]?.code ?? 'notice';
  const text = category?.text ?? c.payload?.[0]?.contentString ?? KIND_TEXT[kind] ?? kind;
  const about = c.about?.[0]?.reference;
  const messageId = messageIdOf(c.meta?.source);
  return {
    id: c.id ?? '',
    kind,
    text,
    ...(c.sent !== undefined ? { sent: c.sent } : {}),
    sentTime: fhirTime(c.sent) ?? fhirTime(c.meta?.lastUpdated) ?? 0,
    read: c.received !== undefined,
    urgent: c.priority === 'urgent' || c.priority === 'stat' || c.priority === 'asap',
    ...(about !== undefined ? { about } : {}),
    ...(messageId !== undefined ? { messageId } : {}),
    ...(c.meta?.lastUpdated !== undefined ? { receivedAt: c.meta.lastUpdated } : {}),
  };
}

/** The notices of a Communication search Bundle, newest first. */
export function inboxNotices(bundle: Bundle): InboxNotice[] {
  const notices: InboxNotice[] = [];
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    // The search can include other types (`_include`); only Communications are notices.
    if (r?.resourceType === 'Communication' && r.id !== undefined) notices.push(noticeOf(r as Communication));
  }
  return notices.sort((a, b) => b.sentTime - a.sentTime || a.id.localeCompare(b.id));
}
