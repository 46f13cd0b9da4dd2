/**
 * IANA time zone names, checked once where they are configured (a sender's `sender.yaml`,
 * `DEFAULT_TIMEZONE`) so the conversions can trust the zone they are handed.
 */
import { IANAZone } from 'luxon';

/** What a zone setting must look like, for problem messages. */
export const TIME_ZONE_HINT = 'an IANA time zone such as America/New_York, or UTC';

/**
 * Why `name` is not a zone the engine accepts, or undefined when it is one. Accepted: `UTC` and
 * IANA `Area/Location` names (`America/New_York`, `Etc/GMT+5`). Refused: offsets (`-05:00`),
 * which are wrong half the year wherever clocks change, and the legacy names without a `/`
 * (`EST`, `CST6CDT`), since `EST` is a fixed -05:00 in the tz database, not New York's rules,
 * and an analyst who writes it almost always means the latter.
 * @param name - what the setting or file says
 */
export function timeZoneProblem(name: string): string | undefined {
  const known = name.trim() === name && IANAZone.isValidZone(name);
  if (!known) return `"${name}" is not ${TIME_ZONE_HINT}`;
  if (name !== 'UTC' && !name.includes('/')) {
    return `"${name}" is a legacy zone name; use ${TIME_ZONE_HINT}`;
  }
  return undefined;
}
