/**
 * "Why did it fail?": each error and warning with where it is in the HL7 message (`PID-3.1`) and
 * which mapping rule raised it, the two things an analyst needs to find the fix.
 */
import type { ReactElement } from 'react';
import type { MessageIssue } from '../api/api-types';
import { ResultsTable } from '../common/results-table';
import { StatusBadge } from '../common/status-badge';

/** HL7 locations among an issue's expressions (the rest name mapping files and rules). */
export function hl7Locations(expression: readonly string[] | undefined): string[] {
  return (expression ?? []).filter((e) => /^[A-Z][A-Z0-9]{2}(-\d+(\.\d+){0,2})?(\[\d+\])?$/.test(e));
}

/** The mapping rule that raised an issue (`rules/patient.yaml#patient.id`), if it names one. */
export function issueRule(issue: MessageIssue): string | undefined {
  return issue.rule ?? (issue.expression ?? []).find((e) => e.includes('#'));
}

const COLUMNS = ['Severity', 'Problem', 'HL7 location', 'Mapping rule'];

export function IssueTable({ issues }: { readonly issues: readonly MessageIssue[] }): ReactElement {
  return (
    <ResultsTable className="issues" caption="Errors and warnings" columns={COLUMNS}>
      {issues.map((i, n) => {
        const locations = hl7Locations(i.expression);
        const rule = issueRule(i);
        return (
          <tr key={n}>
            <td>
              <StatusBadge status={i.severity} />
            </td>
            <td>
              {i.diagnostics ?? i.code}
              <span className="muted block">{i.code}</span>
            </td>
            <td>{locations.length > 0 ? <code>{locations.join(', ')}</code> : '—'}</td>
            <td>{rule !== undefined ? <code>{rule}</code> : '—'}</td>
          </tr>
        );
      })}
    </ResultsTable>
  );
}
