/**
 * A console table: the SMART app's `results` style in a horizontal scroller, a caption for screen
 * readers and one row of column headings; the caller writes the body rows.
 */
import type { ReactElement, ReactNode } from 'react';

export interface ResultsTableProps {
  /** Added to `results`, e.g. `messages-table`. */
  readonly className: string;
  readonly caption: string;
  /** The headings; one only screen readers need is a visually-hidden span. */
  readonly columns: readonly ReactNode[];
  /** The rows. */
  readonly children: ReactNode;
}

export function ResultsTable({ className, caption, columns, children }: ResultsTableProps): ReactElement {
  return (
    <div className="table-scroll">
      <table className={`results ${className}`}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th scope="col" key={i}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
