/**
 * `DEFAULT_TIMEZONE`: the zone HL7 times sent without an offset are read in when the sender's
 * `sender.yaml` names none. Shared by the engine's configuration and `npm run map`, so both
 * take the zone the same way; the host's zone is read here, at the edge, never in mapping/.
 */
import { timeZoneProblem } from '../mapping/time-zone';

/** The zone the host runs in (the TZ environment variable, else the system's), as Intl resolves it. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * The default zone: `raw` when set (checked), else the host's.
 * @param raw - the DEFAULT_TIMEZONE value; unset or empty means the host's zone
 * @returns the zone, or the problem naming the setting
 */
export function parseDefaultTimezone(
  raw: string | undefined,
): { readonly zone: string } | { readonly problem: string } {
  if (raw === undefined || raw === '') return { zone: hostTimeZone() };
  const problem = timeZoneProblem(raw);
  return problem === undefined ? { zone: raw } : { problem: `DEFAULT_TIMEZONE: ${problem}` };
}
