/**
 * Where an item came from, on every item: the hospital, the HL7 message the engine archived
 * (an analyst can look it up by this id and replay it), and when the engine received it.
 */
import type { ReactElement } from 'react';
import { formatFhirTime, machineTime } from '../timeline/format-time';
import type { Facility, Provenance } from '../timeline/timeline-types';

export function ProvenanceLine({
  provenance,
  facility,
}: {
  readonly provenance: Provenance;
  readonly facility: Facility | undefined;
}): ReactElement {
  return (
    <p className="provenance">
      <span>From {facility?.name ?? 'an unknown facility'}</span>
      {provenance.messageId !== undefined ? <span>message {provenance.messageId}</span> : null}
      {provenance.receivedAt !== undefined ? (
        <span>
          received{' '}
          <time dateTime={machineTime(provenance.receivedAt)}>{formatFhirTime(provenance.receivedAt)}</time>
        </span>
      ) : null}
    </p>
  );
}
