/**
 * JSON (a FHIR Bundle, an error) in a disclosure that is closed until asked for: a Bundle runs to
 * hundreds of lines, and most visits only need the summary line.
 */
import type { ReactElement } from 'react';
import { Disclosure } from '../../components/disclosure';

export interface JsonBlockProps {
  readonly summary: string;
  readonly value: unknown;
}

export function JsonBlock({ summary, value }: JsonBlockProps): ReactElement {
  return (
    <Disclosure className="json-block" summary={summary}>
      {() => <pre className="code-block">{JSON.stringify(value, null, 2)}</pre>}
    </Disclosure>
  );
}
