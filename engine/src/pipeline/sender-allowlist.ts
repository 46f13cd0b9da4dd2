/**
 * Whether a sender may use this interface. With mutual TLS the certificate must also name the
 * facility, so one hospital's certificate cannot send as another.
 */
import type { AllowedSender } from '../config/schema';
import type { MessageHeader } from '../hl7/message-header';

/** True when the header (and certificate CN, if any) is allowed. */
export function isSenderAllowed(
  h: Pick<MessageHeader, 'sendingApplication' | 'sendingFacility' | 'sender'>,
  certificateCn: string | undefined,
  allowed: readonly AllowedSender[] | undefined,
): boolean {
  if (certificateCn !== undefined && certificateCn !== h.sendingFacility && certificateCn !== h.sender) {
    return false;
  }
  if (allowed === undefined) return true;
  return allowed.some(
    (a) =>
      a.facility === h.sendingFacility &&
      (a.application === undefined || a.application === h.sendingApplication),
  );
}
