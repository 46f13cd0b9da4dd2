/** OperationOutcome issues as a list: where each is (file, line, HL7 location) and what it says. */
import type { ReactElement } from 'react';
import type { ApiIssue } from '../api/api-error';

export function IssueLines({ issues }: { readonly issues: readonly ApiIssue[] }): ReactElement {
  return (
    <ul className="issue-lines">
      {issues.map((i, n) => {
        const where = [...(i.location ?? []), ...(i.expression ?? [])];
        return (
          <li key={n}>
            {where.length > 0 ? <code>{where.join(', ')}</code> : null} {i.diagnostics ?? i.code}
          </li>
        );
      })}
    </ul>
  );
}
