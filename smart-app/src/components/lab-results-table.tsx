/**
 * A report's results as a table: test, value, flag, reference range, and a button that opens the
 * trend of a numeric test. Scrolls sideways in a narrow EHR panel; the scroll area is focusable so
 * a keyboard user can scroll it too.
 */
import type { ReactElement } from 'react';
import type { LabResult } from '../timeline/timeline-types';
import { Badge, FlagBadge } from './badge';

export interface LabResultsTableProps {
  /** Names the table's scroll region: unique on the page (title, facility and time). */
  readonly label: string;
  readonly results: readonly LabResult[];
  readonly onTrend: (testKey: string) => void;
}

export function LabResultsTable({ label, results, onTrend }: LabResultsTableProps): ReactElement {
  return (
    <div className="table-scroll" role="region" aria-label={`Results of ${label}`} tabIndex={0}>
      <table className="results">
        <thead>
          <tr>
            <th scope="col">Test</th>
            <th scope="col">Result</th>
            <th scope="col">Flag</th>
            <th scope="col">Reference range</th>
            <th scope="col">
              <span className="visually-hidden">Trend</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {results.map((r) => (
            <tr key={r.id} className={`result result-${r.flag.severity}`}>
              <th scope="row">
                {r.name}
                {r.corrected ? <Badge tone="corrected">Corrected</Badge> : null}
                {r.status === 'preliminary' ? <Badge tone="muted">Preliminary</Badge> : null}
                {r.notes.length > 0 ? <span className="result-note">{r.notes.join(' ')}</span> : null}
              </th>
              <td>{r.value}</td>
              <td>
                <FlagBadge flag={r.flag} />
                {r.flag.severity === 'normal' ? 'Normal' : null}
                {r.flag.severity === 'none' && r.flag.label !== '' ? r.flag.label : null}
              </td>
              <td>{r.referenceRange ?? ''}</td>
              <td>
                {r.testKey !== undefined && r.numericValue !== undefined ? (
                  <button type="button" className="link-button" onClick={() => onTrend(r.testKey ?? '')}>
                    Trend<span className="visually-hidden"> of {r.name}</span>
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
