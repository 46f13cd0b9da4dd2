/**
 * A sender's own settings, in `senders/<MSH-4>/sender.yaml` (or `senders/<MSH-3^MSH-4>/`): for
 * now its time zone, which times it sends without an offset are read in. Kept apart from the
 * sender's mapping overrides because it holds for every message type the sender sends, even
 * one it has no override for.
 */
import { MappingErrorCode } from './mapping-error';
import type { ParsedMappingFile } from './parse-mapping-file';
import type { RawOrigin } from './raw-mapping';
import { timeZoneProblem } from './time-zone';

type Report = (code: MappingErrorCode, message: string, origin: RawOrigin) => void;

/** `senders/<sender>/sender.yaml` (or `.yml`); the sender directory name is group 1. */
export const SENDER_SETTINGS_FILE = /^senders\/([^/]+)\/sender\.ya?ml$/;

/** What a settings file may hold besides `timezone`. */
const SETTINGS_KEYS: ReadonlySet<string> = new Set(['description', 'timezone']);

/**
 * The time zone of each sender directory that names one, checked: an unknown zone, a
 * `timezone:` outside a sender file, or mapping content inside one is reported at its line.
 * @param files - every parsed YAML file of the set by relative path
 * @returns sender directory name to IANA zone
 */
export function readSenderTimezones(
  files: ReadonlyMap<string, ParsedMappingFile>,
  report: Report,
): Map<string, string> {
  const zones = new Map<string, string>();
  for (const [rel, parsed] of files) {
    const data = parsed.data;
    if (data === undefined) continue;
    const sender = SENDER_SETTINGS_FILE.exec(rel)?.[1];
    if (sender === undefined) {
      if (data.timezone !== undefined) {
        report(
          MappingErrorCode.SchemaViolation,
          'timezone: is a sender setting: put it in senders/<MSH-4>/sender.yaml',
          { file: parsed.file, pointer: ['timezone'] },
        );
      }
      continue;
    }
    for (const key of Object.keys(data).filter((k) => !SETTINGS_KEYS.has(k))) {
      report(
        MappingErrorCode.SchemaViolation,
        `sender.yaml holds the sender's settings (timezone:); "${key}" belongs in a mapping file of the sender directory`,
        { file: parsed.file, pointer: [key] },
      );
    }
    if (data.timezone === undefined) continue;
    const problem = timeZoneProblem(data.timezone);
    if (problem !== undefined) {
      report(MappingErrorCode.UnknownTimeZone, `timezone: ${problem}`, {
        file: parsed.file,
        pointer: ['timezone'],
      });
    } else zones.set(sender, data.timezone);
  }
  return zones;
}
