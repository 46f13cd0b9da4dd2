/** The trend's values as a table: the chart's accessible equivalent, and where flags are spelled out. */
import type { ReactElement } from 'react';
import { formatFhirTime } from '../timeline/format-time';
import type { TrendSeries } from '../timeline/trend-series';
import type { Facility } from '../timeline/timeline-types';
import { Badge, FlagBadge } from './badge';

export function TrendTable({
  series,
  facilities,
}: {
  readonly series: TrendSeries;
  readonly facilities: ReadonlyMap<string, Facility>;
}): ReactElement {
  return (
    <div className="table-scroll" role="region" aria-label={`Values of ${series.name}`} tabIndex={0}>
      <table className="results">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Value</th>
            <th scope="col">Flag</th>
            <th scope="col">Facility</th>
          </tr>
        </thead>
        <tbody>
          {[...series.points].reverse().map((p) => (
            <tr key={p.result.id}>
              <th scope="row">{formatFhirTime(p.result.time ?? new Date(p.time).toISOString())}</th>
              <td>
                {p.result.value}
                {p.result.corrected ? <Badge tone="corrected">Corrected</Badge> : null}
              </td>
              <td>
                <FlagBadge flag={p.result.flag} />
              </td>
              <td>{facilities.get(p.facilityKey)?.name ?? 'Unknown facility'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
