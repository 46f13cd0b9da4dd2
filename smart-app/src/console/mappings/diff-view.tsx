/**
 * A changed output next to the deployed one, drawn by jsondiffpatch's HTML formatter: additions
 * green, removals struck through, unchanged values folded away unless asked for. The formatter
 * escapes every value it writes, so its markup is safe to insert.
 */
import { create, type Delta } from 'jsondiffpatch';
import { format } from 'jsondiffpatch/formatters/html';
import 'jsondiffpatch/formatters/styles/html.css';
import { useId, useMemo, useState, type ReactElement } from 'react';
import type { JsonDelta } from '../api/mapping-types';

/** Bundle entries are matched by resource, not by position, when the console diffs by itself. */
const differ = create({
  objectHash: (o: object) => {
    const r = (o as { resource?: { resourceType?: unknown; id?: unknown } }).resource;
    return r !== undefined ? `${String(r.resourceType)}/${String(r.id)}` : JSON.stringify(o);
  },
});

/** The delta between two outputs, for an answer that carried both but no delta. */
export function diffOutputs(deployed: unknown, edited: unknown): JsonDelta | undefined {
  return differ.diff(deployed, edited) as JsonDelta | undefined;
}

export interface DiffViewProps {
  readonly delta: JsonDelta;
  /** The deployed output the delta applies to; without it only the changes are drawn. */
  readonly left: unknown;
}

export function DiffView({ delta, left }: DiffViewProps): ReactElement {
  const [showUnchanged, setShowUnchanged] = useState(false);
  const id = useId();
  const html = useMemo(() => format(delta as Delta, left) ?? '', [delta, left]);
  return (
    <div className="diff-view">
      <label className="check" htmlFor={id}>
        <input
          id={id}
          type="checkbox"
          checked={showUnchanged}
          onChange={(e) => {
            setShowUnchanged(e.target.checked);
          }}
        />
        Show unchanged values
      </label>
      <div
        className={`diff-body ${showUnchanged ? 'jsondiffpatch-unchanged-visible' : 'jsondiffpatch-unchanged-hidden'}`}
        // jsondiffpatch's formatter escapes keys and values (htmlEscape) before writing them.
        dangerouslySetInnerHTML={{ __html: html }}
      />
    </div>
  );
}
