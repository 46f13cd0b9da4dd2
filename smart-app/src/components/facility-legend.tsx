/** The facility colours, named: the key to the coloured edge of every timeline item. */
import type { ReactElement } from 'react';
import type { Facility } from '../timeline/timeline-types';

export function FacilityLegend({
  facilities,
}: {
  readonly facilities: readonly Facility[];
}): ReactElement | null {
  if (facilities.length === 0) return null;
  return (
    <ul className="legend" aria-label="Facility colours">
      {facilities.map((f) => (
        <li key={f.key}>
          <span className="swatch" style={{ backgroundColor: f.colour }} aria-hidden="true" />
          {f.name}
        </li>
      ))}
    </ul>
  );
}
