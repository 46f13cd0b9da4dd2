/**
 * The message handler the processing stage runs: map with the current mapping set, store the
 * Bundle (with the patient-merge rules), then link the changed Patients to their persons, all
 * inside the stage's transaction. Mappings are watched and reloaded; an invalid edit is reported
 * and the last good set keeps running. An in-process deploy (the mapping API) reloads at once
 * through `reload()`, in the same queue as the watcher's reloads, so the next message after its
 * answer runs the deployed set and a slower, older read can never land after it.
 */
import path from 'node:path';
import type { Config } from '../config/schema';
import {
  loadFhirSchemaIndex,
  loadMappingSetFromTexts,
  loadMappingValidator,
  readMappingTexts,
} from '../mapping/load-mappings';
import { mapMessage } from '../mapping/map-message';
import type { MappingSet } from '../mapping/mapping-types';
import { watchMappings } from '../mapping/watch-mappings';
import type { Logger } from '../observability/logger';
import { applyBundle } from '../store/fhir-resource-store';
import { identityRules, linkChangedPatients } from '../identity/link-patient';
import { patientMergeHooks } from '../identity/patient-merge';
import type { MessageHandler } from './process-message';
import { parseResultFlags, RESULT_FLAGS_FILE } from '../notify/result-flags';
import { DEFAULT_RESULT_FLAGS, type ResultFlags } from '../notify/derive-events';

export interface MessageHandlerRuntime {
  readonly handle: MessageHandler;
  /** The mapping set in force now. */
  current(): MappingSet;
  /**
   * Reads the mappings directory now (mappings and result flags) and switches to it.
   * @returns the set version in force afterwards.
   * @throws MappingLoadError when the directory does not load; the last good set keeps running.
   */
  reload(): Promise<string>;
  /** Stops watching the mappings directory. */
  close(): void;
}

/**
 * Loads the mappings (refusing to start on an invalid set, listing every problem) and returns
 * the handler plus the watcher's off switch.
 */
export async function createMessageHandler(config: Config, logger: Logger): Promise<MessageHandlerRuntime> {
  const dir = config.mappingsDir;
  const [schema, validate] = await Promise.all([loadFhirSchemaIndex(), loadMappingValidator()]);
  /** The set and the flags from one read of the directory, so they never come from two edits. */
  const read = async (): Promise<{ set: MappingSet; flags: ResultFlags | Error }> => {
    const texts = await readMappingTexts(dir);
    const set = await loadMappingSetFromTexts(path.basename(dir), texts, { schema, validate });
    const flagsText = texts.get(RESULT_FLAGS_FILE);
    let flags: ResultFlags | Error = DEFAULT_RESULT_FLAGS;
    try {
      if (flagsText !== undefined) flags = parseResultFlags(flagsText);
    } catch (err) {
      flags = err instanceof Error ? err : new Error(String(err));
    }
    return { set, flags };
  };
  const first = await read();
  if (first.flags instanceof Error) throw first.flags;
  let current = first.set;
  let flags: ResultFlags = first.flags;
  logger.info({ mappingVersion: current.version }, 'mappings loaded');
  let queue: Promise<unknown> = Promise.resolve();
  /** Reads and switches, one at a time: each read starts after the previous one switched. */
  const apply = (): Promise<MappingSet> => {
    const run = queue.then(async () => {
      const next = await read();
      if (next.flags instanceof Error) {
        logger.error({ err: next.flags.message }, 'result flags refused: keeping the last good table');
      } else {
        flags = next.flags;
      }
      if (next.set.version !== current.version) {
        logger.info({ mappingVersion: next.set.version }, 'mappings reloaded');
      }
      current = next.set;
      return next.set;
    });
    queue = run.catch(() => undefined);
    return run;
  };
  const stop = watchMappings(
    dir,
    {
      // apply() has switched already; a reload is logged there.
      onReload: () => undefined,
      onError: (err) => {
        logger.error(
          { err: err.message, mappingVersion: current.version },
          'mapping change refused: keeping the last good set',
        );
      },
    },
    { load: apply },
  );
  const rules = identityRules(config.identity);
  const handle: MessageHandler = async (message, parsed, tx) => {
    const set = current;
    const result = mapMessage(parsed, set, {
      messageId: message.id,
      receivedAt: message.receivedAt.toISOString(),
      defaultTimezone: config.defaultTimezone,
    });
    if (result.status === 'ignored') {
      // A file that ignores the event on purpose is named, so the analyst can open it.
      const file = result.mappingFile;
      const output = { reason: result.reason, ...(file !== undefined ? { mappingFile: file } : {}) };
      return { status: 'ignored', output, mappingVersion: set.version };
    }
    const { changes, ...stored } = await applyBundle(tx, result.bundle, {
      eventTime: result.eventTime,
      messageId: message.id,
      hooks: patientMergeHooks(),
    });
    const linked = await linkChangedPatients(tx, changes, rules, {
      id: message.id,
      orderKeys: message.patientKey === null ? [] : [message.patientKey, ...message.otherPatientKeys],
    });
    const identity = linked
      .filter((l) => l.action !== 'unchanged')
      .map(({ patientId, personId, action, reviews }) => ({ patientId, personId, action, reviews }));
    return {
      status: 'processed',
      output: {
        mappingFile: result.mappingFile,
        stored,
        ...(identity.length > 0 ? { identity } : {}),
        ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
      },
      mappingVersion: result.mappingVersion,
      changes,
      resultFlags: flags,
      unmappedSegments: result.unmappedSegments,
    };
  };
  return {
    handle,
    current: () => current,
    reload: async () => (await apply()).version,
    close: stop,
  };
}
