/**
 * A message's segments field by field, each with its HL7 position and V2-to-FHIR name
 * (`PID-5.1 Family Name`) and the text with escape sequences already decoded by the engine.
 * Components and repetitions fold out under their field, so a wide PID stays readable.
 */
import type { ReactElement } from 'react';
import type { LabelledValue, MessageSegment } from '../api/api-types';

function labelOf(v: LabelledValue): string {
  return v.label !== undefined && v.label !== '' ? `${v.position} ${v.label}` : v.position;
}

function Parts({
  title,
  parts,
}: {
  readonly title: string;
  readonly parts: readonly LabelledValue[];
}): ReactElement {
  return (
    <>
      <p className="parts-title">{title}</p>
      <dl className="parts">
        {parts.map((p, i) => (
          <div key={`${p.position}-${i}`}>
            <dt>{labelOf(p)}</dt>
            <dd>
              <FieldValue value={p} />
            </dd>
          </div>
        ))}
      </dl>
    </>
  );
}

/** A value, folding out its repetitions and components when it has them. */
function FieldValue({ value }: { readonly value: LabelledValue }): ReactElement {
  const reps = value.repetitions ?? [];
  const comps = value.components ?? [];
  if (reps.length === 0 && comps.length === 0) return <span className="hl7-value">{value.value}</span>;
  return (
    <details className="field-parts">
      <summary>
        <span className="hl7-value">{value.value}</span>
        <span className="visually-hidden"> (show {reps.length > 0 ? 'repetitions' : 'components'})</span>
      </summary>
      {reps.length > 0 ? <Parts title="Repetitions" parts={reps} /> : null}
      {comps.length > 0 ? <Parts title="Components" parts={comps} /> : null}
    </details>
  );
}

export function SegmentTable({ segments }: { readonly segments: readonly MessageSegment[] }): ReactElement {
  return (
    <div className="segments">
      {segments.map((s) => (
        <details key={`${s.name}-${s.index}`} className="segment" open>
          <summary>
            <span className="segment-name">{s.name}</span>
            <span className="muted"> segment {s.index}</span>
          </summary>
          <table className="results fields">
            <caption className="visually-hidden">
              {s.name} segment {s.index} fields
            </caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {s.fields
                .filter((f) => f.value !== '')
                .map((f) => (
                  <tr key={f.position}>
                    <th scope="row">{labelOf(f)}</th>
                    <td>
                      <FieldValue value={f} />
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </details>
      ))}
    </div>
  );
}
