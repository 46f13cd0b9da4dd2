/**
 * Which messages the edited file is tried on: archived ones by id (a failed message, say), a
 * pasted message, or the last N of a sender ("what will this change do to real traffic?").
 */
import { useState, type SubmitEvent, type ReactElement } from 'react';
import type { DryRunMessages } from '../api/mapping-types';
import { Field } from '../common/field';

type Mode = 'ids' | 'hl7' | 'sender';

export interface DryRunFormProps {
  readonly initialIds: string;
  readonly running: boolean;
  readonly onRun: (messages: DryRunMessages) => void;
}

/** The dry-run selection a form's values stand for, or the sentence saying what is missing. */
export function dryRunSelection(
  mode: Mode,
  v: { readonly ids: string; readonly hl7: string; readonly sender: string; readonly last: string },
): DryRunMessages | string {
  switch (mode) {
    case 'ids': {
      const ids = v.ids.split(/[\s,]+/).filter((s) => s !== '');
      if (ids.length === 0) return 'Give at least one message id.';
      if (!ids.every((i) => /^\d{1,19}$/.test(i))) {
        return 'Message ids are numbers, separated by commas or spaces.';
      }
      return { ids };
    }
    case 'hl7': {
      const hl7 = v.hl7.trim();
      if (!hl7.startsWith('MSH')) return 'Paste an HL7 v2 message starting with its MSH segment.';
      // Pasted text has the editor's line breaks; HL7 separates segments with carriage returns.
      return { hl7: hl7.replace(/\r\n|\n/g, '\r') };
    }
    case 'sender': {
      const last = Number(v.last);
      if (v.sender.trim() === '') return 'Give the sender (MSH-4, or MSH-3^MSH-4).';
      if (!Number.isInteger(last) || last < 1 || last > 10_000) {
        return 'The number of messages is 1 to 10000.';
      }
      return { sender: v.sender.trim(), last };
    }
  }
}

export function DryRunForm({ initialIds, running, onRun }: DryRunFormProps): ReactElement {
  const [mode, setMode] = useState<Mode>(initialIds !== '' ? 'ids' : 'sender');
  const [values, setValues] = useState({ ids: initialIds, hl7: '', sender: '', last: '100' });
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const set = (k: keyof typeof values, v: string): void => {
    setValues((o) => ({ ...o, [k]: v }));
  };

  const onSubmit = (e: SubmitEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const selection = dryRunSelection(mode, values);
    if (typeof selection === 'string') {
      setProblem(selection);
      return;
    }
    setProblem(undefined);
    onRun(selection);
  };

  const choice = (m: Mode, label: string): ReactElement => (
    <label className="check">
      <input
        type="radio"
        name="dry-run-mode"
        value={m}
        checked={mode === m}
        onChange={() => {
          setMode(m);
        }}
      />
      {label}
    </label>
  );

  return (
    <form className="dry-run-form" aria-label="Dry run" onSubmit={onSubmit}>
      <fieldset>
        <legend>Run the edited file against</legend>
        {choice('ids', 'Archived messages')}
        {choice('sender', 'The last messages of a sender')}
        {choice('hl7', 'A pasted message')}
      </fieldset>
      {mode === 'ids' ? (
        <Field
          id="dry-run-ids"
          label="Message ids"
          value={values.ids}
          onChange={(v) => {
            set('ids', v);
          }}
        />
      ) : null}
      {mode === 'sender' ? (
        <div className="filter-grid">
          <Field
            id="dry-run-sender"
            label="Sender"
            value={values.sender}
            onChange={(v) => {
              set('sender', v);
            }}
          />
          <Field
            id="dry-run-last"
            label="Last messages"
            type="number"
            min={1}
            max={10000}
            value={values.last}
            onChange={(v) => {
              set('last', v);
            }}
          />
        </div>
      ) : null}
      {mode === 'hl7' ? (
        <div className="field">
          <label htmlFor="dry-run-hl7">HL7 message</label>
          <textarea
            id="dry-run-hl7"
            rows={8}
            spellCheck={false}
            value={values.hl7}
            onChange={(e) => {
              set('hl7', e.target.value);
            }}
          />
        </div>
      ) : null}
      {problem !== undefined ? (
        <p className="status status-error" role="alert">
          {problem}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={running}>
          {running ? 'Running…' : 'Run'}
        </button>
      </div>
    </form>
  );
}
