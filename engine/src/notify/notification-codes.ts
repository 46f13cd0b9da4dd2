/**
 * What each engine event is called on the wire. A PCP's system dispatches on
 * MessageHeader.eventCoding, so it carries the Da Vinci code wherever one applies (the binding is
 * extensible), and the engine's own code only where Da Vinci has none.
 */
import type { EventKind } from './derive-events';

/** Da Vinci Unsolicited Notifications STU 1.1, CodeSystem `notification-event`. */
export const DAVINCI_NOTIFICATION_EVENT_SYSTEM =
  'http://hl7.org/fhir/us/davinci-alerts/CodeSystem/notification-event';

/** The engine's CodeSystem for events Da Vinci does not name, or names only coarsely. */
export const ENGINE_NOTIFICATION_EVENT_SYSTEM =
  'https://care-coordination.org/fhir/CodeSystem/notification-event';

export interface NotificationCoding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

/** One concept of the engine's CodeSystem, as README documents it. */
export interface EngineNotificationConcept {
  readonly code: string;
  readonly display: string;
  readonly definition: string;
}

/** The engine's notification-event concepts (code, display, definition). */
export const ENGINE_NOTIFICATION_CONCEPTS = [
  {
    code: 'ed-arrival',
    display: 'Emergency Department Arrival',
    definition:
      'The patient arrived at or was registered in an emergency department. Sent with the Da Vinci code ' +
      'notification-admit, which the guide also uses for emergency department admissions.',
  },
  {
    code: 'cancellation',
    display: 'Encounter Event Cancelled',
    definition:
      'An admission, pre-admission, transfer or discharge notified earlier did not happen (for example HL7 v2 ' +
      'A11, A12, A13); the focus Encounter shows the state after the cancellation.',
  },
  {
    code: 'death',
    display: 'Patient Death',
    definition:
      'The patient was recorded as deceased. Sent with the Da Vinci code notification-vitals ' +
      '(birth or death of the patient).',
  },
  {
    code: 'critical-result',
    display: 'Critical Result',
    definition:
      'A result was reported with a critical interpretation (HH, LL or AA). Sent with the Da Vinci code ' +
      'notification-lab-report.',
  },
  {
    code: 'result-correction',
    display: 'Corrected Critical Result',
    definition:
      'A critical result notified earlier was corrected; the earlier value may be wrong. Sent with the ' +
      'Da Vinci code notification-lab-report.',
  },
] as const satisfies readonly EngineNotificationConcept[];

type EngineCode = (typeof ENGINE_NOTIFICATION_CONCEPTS)[number]['code'];

/**
 * The header codes of one notification: `eventCoding` for MessageHeader.eventCoding, and `reason`
 * (MessageHeader.reason) with the engine's finer code when the Da Vinci code is coarser than the
 * event, so a receiver can tell an ED arrival from an inpatient admission without reading the
 * Encounter.
 */
export interface NotificationCodes {
  readonly eventCoding: NotificationCoding;
  readonly reason?: NotificationCoding;
}

function davinci(code: string, display: string): NotificationCoding {
  return { system: DAVINCI_NOTIFICATION_EVENT_SYSTEM, code, display };
}

function engine(code: EngineCode): NotificationCoding {
  const concept = ENGINE_NOTIFICATION_CONCEPTS.find((c) => c.code === code);
  // The table is a literal that holds every EngineCode; a miss would be a typo caught by tsc.
  return { system: ENGINE_NOTIFICATION_EVENT_SYSTEM, code, display: concept?.display ?? code };
}

/**
 * The codes for an event.
 *
 * @param kind - the derived event
 * @param correction - the result is a correction of one notified before; only results can be
 *   corrected, so it is ignored for encounter and death events
 */
export function notificationCodes(kind: EventKind, correction: boolean): NotificationCodes {
  switch (kind) {
    case 'admit':
      return { eventCoding: davinci('notification-admit', 'Admit Notification') };
    case 'ed-arrival':
      // The guide lists "admission to the emergency department" under admit, and its Direct
      // ConceptMap maps ED admission (LOINC 98141-5) to notification-admit.
      return {
        eventCoding: davinci('notification-admit', 'Admit Notification'),
        reason: engine('ed-arrival'),
      };
    case 'transfer':
      return { eventCoding: davinci('notification-transfer', 'Transfer Notification') };
    case 'discharge':
      return { eventCoding: davinci('notification-discharge', 'Discharge Notification') };
    case 'cancellation':
      return { eventCoding: engine('cancellation') };
    case 'death':
      return {
        eventCoding: davinci('notification-vitals', 'Vital Statistics Notification'),
        reason: engine('death'),
      };
    case 'critical-result':
      return {
        eventCoding: davinci('notification-lab-report', 'Laboratory Report Notification'),
        reason: engine(correction ? 'result-correction' : 'critical-result'),
      };
  }
}
