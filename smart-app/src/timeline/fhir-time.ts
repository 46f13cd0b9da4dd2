/**
 * FHIR dateTime values as epoch milliseconds. HL7 times arrive with offsets or as bare dates; the
 * timeline sorts and filters on one number so a result from a hospital two zones away still lands
 * in the right place.
 */

/** Epoch ms of a FHIR date or dateTime (a bare date is its local midnight), else undefined. */
export function fhirTime(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  // `YYYY`, `YYYY-MM` and `YYYY-MM-DD` are partial dates: Date.parse would read them as UTC.
  const partial = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(value);
  if (partial !== null) {
    const [, y, m, d] = partial;
    return new Date(
      Number(y),
      m === undefined ? 0 : Number(m) - 1,
      d === undefined ? 1 : Number(d),
    ).getTime();
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** The first of `values` that parses. */
export function firstTime(...values: readonly (string | undefined)[]): number | undefined {
  for (const v of values) {
    const t = fhirTime(v);
    if (t !== undefined) return t;
  }
  return undefined;
}
