/**
 * A dry run's answer: the summary first (how many outputs change, stay, fail), then each message
 * with how its output changes against the deployed mapping's, its errors, and both outputs.
 */
import { useMemo, type ReactElement } from 'react';
import type { DryRunAnswer, DryRunResult, JsonDelta } from '../api/mapping-types';
import { IssueLines } from '../common/issue-lines';
import { JsonBlock } from '../common/json-block';
import { StatusBadge } from '../common/status-badge';
import { Disclosure } from '../../components/disclosure';
import { countDelta, deltaText, resultLabel, summaryText, verdictOf } from './diff-summary';
import { DiffView, diffOutputs } from './diff-view';

/** Results shown with their diff open: beyond this an analyst opens the ones they care about. */
const OPEN_DIFFS = 3;

/**
 * The change to draw: the engine's delta, else one computed from both outputs, else (the deployed
 * set failed where the edit maps) the whole new output as added.
 */
function deltaOf(r: DryRunResult): DryRunResult['delta'] {
  if (r.delta !== undefined) return r.delta;
  if (r.output !== undefined && r.deployedOutput !== undefined) {
    return diffOutputs(r.deployedOutput, r.output);
  }
  if (r.output !== undefined && r.deployedOutput === undefined) return diffOutputs(undefined, r.output);
  return undefined;
}

function ResultItem({
  result,
  delta,
  index,
  openDiff,
}: {
  readonly result: DryRunResult;
  readonly delta: JsonDelta | undefined;
  readonly index: number;
  readonly openDiff: boolean;
}): ReactElement {
  const verdict = verdictOf(result);
  const label = resultLabel(result, index);
  return (
    <li className={`dry-run-result verdict-${verdict}`} data-verdict={verdict}>
      <h4>
        {label}{' '}
        <StatusBadge
          status={verdict === 'unchanged' ? 'unchanged' : verdict === 'changed' ? 'changed' : 'failed'}
        />
      </h4>
      {verdict === 'changed' && delta !== undefined ? (
        <p className="note">{deltaText(countDelta(delta))}</p>
      ) : null}
      {result.deployedErrors !== undefined && result.deployedErrors.length > 0 ? (
        <div className="deployed-errors">
          <p className="note">
            {result.failed
              ? 'The deployed mapping fails on it as well.'
              : 'The deployed mapping fails on it; your edit maps it.'}
          </p>
          {result.failed ? null : <IssueLines issues={result.deployedErrors} />}
        </div>
      ) : null}
      {result.errors !== undefined && result.errors.length > 0 ? (
        <>
          <p className="note">Your edit fails on it:</p>
          <IssueLines issues={result.errors} />
        </>
      ) : null}
      {result.ignored !== undefined ? <p className="note">Ignored: {result.ignored}</p> : null}
      {delta !== undefined && verdict === 'changed' ? (
        <Disclosure className="json-block" summary="Diff against the deployed output" defaultOpen={openDiff}>
          {() => <DiffView delta={delta} left={result.deployedOutput} />}
        </Disclosure>
      ) : null}
      {result.output !== undefined ? (
        <JsonBlock summary="FHIR output (edited)" value={result.output} />
      ) : null}
      {result.deployedOutput !== undefined ? (
        <JsonBlock summary="FHIR output (deployed)" value={result.deployedOutput} />
      ) : null}
    </li>
  );
}

export function DryRunResults({ answer }: { readonly answer: DryRunAnswer }): ReactElement {
  // Diffing two Bundles per result is the costly part: once per answer, not on every render of
  // the bench (the "edited" mark, a deploy or golden-test run, the engine's problems), which
  // also keeps each DiffView's formatted HTML memoised.
  const deltas = useMemo(() => answer.results.map(deltaOf), [answer]);
  let opened = 0;
  return (
    <section className="dry-run-results" aria-labelledby="dry-run-heading">
      <h3 id="dry-run-heading">Dry run</h3>
      <p className="dry-run-summary" role="status">
        {summaryText(answer.summary)}
      </p>
      <p className="note">Nothing was stored and no notification was sent.</p>
      <ol className="dry-run-list">
        {answer.results.map((r, i) => {
          const open = verdictOf(r) === 'changed' && opened < OPEN_DIFFS;
          if (open) opened += 1;
          return (
            <ResultItem key={r.id ?? `pasted-${i}`} result={r} delta={deltas[i]} index={i} openDiff={open} />
          );
        })}
      </ol>
    </section>
  );
}
