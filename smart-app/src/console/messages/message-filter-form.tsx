/**
 * The message browser's search form. Each field has its own label and the form says what is
 * wrong before anything is sent; submitting puts the filters in the address (bookmarkable).
 */
import { useState, type SubmitEvent, type ReactElement } from 'react';
import { MESSAGE_STATUSES, type MessageStatus } from '../api/api-types';
import { Field } from '../common/field';
import { EMPTY_FILTER, filterProblems, type MessageFilter } from './message-filter';

export interface MessageFilterFormProps {
  readonly filter: MessageFilter;
  readonly onSearch: (filter: MessageFilter) => void;
}

type TextField = Exclude<keyof MessageFilter, 'status' | 'from' | 'until' | 'errorKey'>;

const TEXT_FIELDS: readonly { readonly key: TextField; readonly label: string; readonly hint?: string }[] = [
  { key: 'sender', label: 'Sender', hint: 'MSH-4, or MSH-3^MSH-4' },
  { key: 'type', label: 'Type', hint: 'ADT or ADT^A01' },
  { key: 'controlId', label: 'Control ID' },
  { key: 'mrn', label: 'MRN', hint: 'PID-3.1, or FACILITY|id' },
  { key: 'name', label: 'Patient name', hint: 'Family, or Family, Given' },
];

export function MessageFilterForm({ filter, onSearch }: MessageFilterFormProps): ReactElement {
  const [form, setForm] = useState<MessageFilter>(filter);
  const [problems, setProblems] = useState<string[]>([]);
  const set = <K extends keyof MessageFilter>(key: K, value: MessageFilter[K]): void => {
    setForm((f) => ({ ...f, [key]: value }));
  };

  const onSubmit = (e: SubmitEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const found = filterProblems(form);
    setProblems(found);
    if (found.length === 0) onSearch(form);
  };

  return (
    <form className="filter-form" role="search" aria-label="Find messages" onSubmit={onSubmit}>
      <div className="filter-grid">
        {TEXT_FIELDS.map((f) => (
          <Field
            key={f.key}
            id={`filter-${f.key}`}
            label={f.label}
            value={form[f.key]}
            hint={f.hint}
            onChange={(v) => {
              set(f.key, v);
            }}
          />
        ))}
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select
            id="filter-status"
            value={form.status}
            onChange={(e) => {
              set('status', e.target.value as MessageStatus | '');
            }}
          >
            <option value="">Any</option>
            {MESSAGE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <Field
          id="filter-from"
          label="Received from"
          type="date"
          value={form.from}
          onChange={(v) => {
            set('from', v);
          }}
        />
        <Field
          id="filter-until"
          label="Received until"
          type="date"
          value={form.until}
          onChange={(v) => {
            set('until', v);
          }}
        />
      </div>
      {form.errorKey !== '' ? (
        <p className="note">
          Limited to one error group.{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => {
              set('errorKey', '');
            }}
          >
            Remove
          </button>
        </p>
      ) : null}
      {problems.length > 0 ? (
        <ul className="status status-error" role="alert">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary">
          Search
        </button>
        <button
          type="button"
          onClick={() => {
            setForm(EMPTY_FILTER);
            setProblems([]);
            onSearch(EMPTY_FILTER);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
