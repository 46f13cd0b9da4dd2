/**
 * Error groups: one key per cause whatever the patient or value in the message, and another key
 * for another rule, location or kind of failure.
 */
import { describe, expect, it } from 'vitest';
import {
  errorKeyOf,
  errorKeyOfError,
  failureCause,
  normalizeErrorMessage,
} from '../../engine/src/store/error-key';

const missingObx = {
  code: 'missing-required',
  diagnostics:
    'Observation "observation" needs an id but a required id location is empty (OBX-3.1, x.yaml#observation.id)',
  location: 'OBX-3.1',
  rule: 'x.yaml#observation.id',
};

describe('normalizeErrorMessage', () => {
  it('takes values out and keeps HL7 locations', () => {
    expect(normalizeErrorMessage('eventTime is not a FHIR dateTime: 2024-13-45')).toBe(
      'eventTime is not a FHIR dateTime: …',
    );
    expect(normalizeErrorMessage('request.url must be Type/id, got Patient/a b')).toBe(
      'request.url must be Type/id, got …',
    );
    expect(normalizeErrorMessage('value "Smith" at PID-5.1 in segment 3')).toBe(
      'value … at PID-5.1 in segment #',
    );
    expect(normalizeErrorMessage('first line\rPID|1||secret')).toBe('first line');
  });
});

describe('error keys', () => {
  it('gives one cause one key, whatever the values', () => {
    const a = errorKeyOfError({
      code: 'invalid',
      diagnostics: 'eventTime is not a FHIR dateTime: 2024-13-45',
    });
    const b = errorKeyOfError({ code: 'invalid', diagnostics: 'eventTime is not a FHIR dateTime: 20240230' });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).toBe(b);
    expect(errorKeyOfError({ ...missingObx, location: 'Bundle.entry[3].request' })).toBe(
      errorKeyOfError({ ...missingObx, location: 'Bundle.entry[7].request' }),
    );
  });

  it('tells apart causes with another code, location or rule', () => {
    const keys = new Set([
      errorKeyOfError(missingObx),
      errorKeyOfError({ ...missingObx, location: 'OBX-3.2' }),
      errorKeyOfError({ ...missingObx, rule: 'x.yaml#patient-observation.id' }),
      errorKeyOfError({ ...missingObx, code: 'invalid' }),
    ]);
    expect(keys.size).toBe(4);
  });

  it("reads location and rule from an older row's OperationOutcome", () => {
    const older = {
      code: 'missing-required',
      diagnostics: missingObx.diagnostics,
      detail: { issue: [{ expression: ['OBX-3.1', 'x.yaml#observation.id'] }] },
    };
    expect(failureCause(older)).toMatchObject({ location: 'OBX-3.1', rule: 'x.yaml#observation.id' });
    expect(errorKeyOfError(older)).toBe(errorKeyOfError(missingObx));
  });

  it('has no key without an error', () => {
    expect(errorKeyOfError(null)).toBeUndefined();
    expect(errorKeyOf({ code: 'x', message: '' })).toHaveLength(16);
  });
});
