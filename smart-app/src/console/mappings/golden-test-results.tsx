/**
 * The golden examples (`mappings/tests`) run against the deployed set with the edit overlaid:
 * the check that a fix for one sender breaks nothing the examples pin down.
 */
import type { ReactElement } from 'react';
import type { GoldenTestAnswer } from '../api/mapping-types';
import { JsonBlock } from '../common/json-block';
import { StatusBadge } from '../common/status-badge';

export function GoldenTestResults({ answer }: { readonly answer: GoldenTestAnswer }): ReactElement {
  const failing = answer.results.filter((r) => r.status === 'fail');
  return (
    <section className="golden-results" aria-labelledby="golden-heading">
      <h3 id="golden-heading">Golden tests</h3>
      <p role="status" className="golden-summary">
        {answer.summary.passed} passed, {answer.summary.failed} failed.
      </p>
      {failing.length > 0 ? (
        <ul className="golden-list">
          {failing.map((r) => (
            <li key={r.name}>
              <StatusBadge status={r.status} /> {r.name}
              {r.differences.length > 0 ? (
                <JsonBlock summary={`${r.differences.length} difference(s)`} value={r.differences} />
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {answer.results.length > failing.length ? (
        <details className="json-block">
          <summary>Passing ({answer.results.length - failing.length})</summary>
          <ul className="golden-list">
            {answer.results
              .filter((r) => r.status === 'pass')
              .map((r) => (
                <li key={r.name}>{r.name}</li>
              ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}
