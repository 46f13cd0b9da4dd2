/**
 * JSON (a FHIR Bundle, an error) in a disclosure that is closed until asked for: a Bundle runs to
 * hundreds of lines, and most visits only need the summary line.
 */
import type { ReactElement } from 'react';
import { Disclosure } from '../../components/disclosure';

export interface JsonBlockProps {
  readonly summary: string;
  readonly value: unknown;
  readonly open?: boolean;
}

export function JsonBlock({ summary, value, open }: JsonBlockProps): ReactElement {
  const body = (): ReactElement => <pre className="code-block">{JSON.stringify(value, null, 2)}</pre>;
  if (open === true) {
    return (
      <details className="json-block" open>
        <summary>{summary}</summary>
        {body()}
      </details>
    );
  }
  return (
    <Disclosure className="json-block" summary={summary}>
      {body}
    </Disclosure>
  );
}
