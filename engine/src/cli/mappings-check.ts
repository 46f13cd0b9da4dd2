/**
 * `npm run mappings:check [-- DIR]`: validates every mapping file, rule file and code table and
 * prints every problem with file, line and rule; exit 1 when there is any.
 */
import { loadMappingSet } from '../mapping/load-mappings';
import { formatProblem, isMappingLoadError } from '../mapping/mapping-error';

async function main(): Promise<number> {
  const dir = process.argv[2] ?? 'mappings';
  try {
    const set = await loadMappingSet(dir);
    const keys = (ignored: boolean): string =>
      set.mappings
        .filter((m) => m.sender === undefined && (m.ignore !== undefined) === ignored)
        .flatMap((m) => m.events.map((e) => `${m.messageType}^${e}`))
        .join(' ');
    const ignored = keys(true);
    const zones = [...set.timezones].map(([sender, zone]) => `${sender} ${zone}`);
    console.log(
      `${dir}: OK (version ${set.version}); maps ${keys(false)}; ${ignored !== '' ? `ignores on purpose ${ignored}; ` : ''}sender overrides: ${set.senders.join(', ') || 'none'}; sender time zones: ${zones.join(', ') || 'none'}`,
    );
    return 0;
  } catch (err) {
    if (!isMappingLoadError(err)) throw err;
    for (const p of err.problems) console.error(formatProblem(p));
    console.error(`${err.problems.length} problem(s)`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
