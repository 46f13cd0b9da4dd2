/**
 * `npm run map -- FILE.hl7 [--sender X] [--mappings DIR]`: prints the FHIR Bundle a message maps
 * to, or the problems that stop it, so an analyst can try a mapping change without the engine.
 * Times without an offset are read as the engine reads them: in the sender's `sender.yaml` zone,
 * else DEFAULT_TIMEZONE, else the host's zone.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseDefaultTimezone } from '../config/default-timezone';
import { decodeMessage } from '../hl7/decode-message';
import { parseHl7 } from '../hl7/parse-message';
import { loadMappingSet } from '../mapping/load-mappings';
import { isMappingError, isMappingLoadError } from '../mapping/mapping-error';
import type { MappingKey, MappingSet } from '../mapping/mapping-types';
import { mapMessage } from '../mapping/map-message';

/** A mapping set that resolves every message as if `sender` had sent it. */
function asSender(set: MappingSet, sender: string): MappingSet {
  const as = (key: MappingKey): MappingKey => ({ ...key, sender, sendingFacility: sender });
  return {
    ...set,
    findMapping: (key) => set.findMapping(as(key)),
    findTimezone: (key) => set.findTimezone(as(key)),
  };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { sender: { type: 'string' }, mappings: { type: 'string', default: 'mappings' } },
  });
  const file = positionals[0];
  if (file === undefined) {
    console.error('usage: npm run map -- FILE.hl7 [--sender MSH-4 or MSH-3^MSH-4] [--mappings DIR]');
    return 2;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    console.error(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`,
    );
    return 2;
  }
  const timezone = parseDefaultTimezone(process.env['DEFAULT_TIMEZONE']);
  if ('problem' in timezone) {
    console.error(timezone.problem);
    return 2;
  }
  const loaded = await loadMappingSet(values.mappings);
  const set = values.sender !== undefined ? asSender(loaded, values.sender) : loaded;
  // The bytes decoded by MSH-18, as the listener decodes them, so a Latin-1 feed maps the same here.
  const message = parseHl7(decodeMessage(bytes).text);
  const result = mapMessage(message, set, {
    messageId: 'cli',
    receivedAt: new Date().toISOString(),
    defaultTimezone: timezone.zone,
  });
  if (result.status === 'ignored') {
    console.error(`ignored: ${result.reason}`);
    return 0;
  }
  const assumed =
    result.assumedTimezone !== undefined ? `; times without an offset read in ${result.assumedTimezone}` : '';
  console.error(
    `mapped by ${result.mappingFile} (mappings ${result.mappingVersion}), event time ${result.eventTime}${assumed}`,
  );
  console.log(JSON.stringify(result.bundle, null, 2));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isMappingLoadError(err) || isMappingError(err)) console.error(err.message);
    else console.error(err);
    process.exitCode = 1;
  },
);
