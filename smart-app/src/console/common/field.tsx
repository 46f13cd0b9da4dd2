/**
 * A labelled input of the console's forms: the label names it, and a hint (also the placeholder,
 * which disappears once typed over) is read after the label.
 */
import type { InputHTMLAttributes, ReactElement } from 'react';

export interface FieldProps extends Omit<
  InputHTMLAttributes<HTMLInputElement>,
  'id' | 'value' | 'onChange' | 'placeholder'
> {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly hint?: string | undefined;
}

export function Field({ id, label, value, onChange, hint, ...input }: FieldProps): ReactElement {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        {...input}
        id={id}
        value={value}
        {...(hint !== undefined ? { placeholder: hint, 'aria-describedby': `${id}-hint` } : {})}
        onChange={(e) => {
          onChange(e.target.value);
        }}
      />
      {hint !== undefined ? (
        <span id={`${id}-hint`} className="visually-hidden">
          {hint}
        </span>
      ) : null}
    </div>
  );
}
