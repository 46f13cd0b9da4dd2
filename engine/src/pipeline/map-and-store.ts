/**
 * The message handler the processing stage runs: map with the current mapping set, store the
 * Bundle (with the patient-merge rules), then link the changed Patients to their persons, all
 * inside the stage's transaction. Mappings are watched and reloaded; an invalid edit is reported
 * and the last good set keeps running.
 */
import type { Config } from '../config/schema';
import { loadMappingSet } from '../mapping/load-mappings';
import { mapMessage } from '../mapping/map-message';
import type { MappingSet } from '../mapping/mapping-types';
import { watchMappings } from '../mapping/watch-mappings';
import type { Logger } from '../observability/logger';
import { applyBundle } from '../store/fhir-resource-store';
import { identityRules, linkChangedPatients } from '../identity/link-patient';
import { patientMergeHooks } from '../identity/patient-merge';
import type { MessageHandler } from './process-message';
import { loadResultFlags } from '../notify/result-flags';
import type { ResultFlags } from '../notify/derive-events';

export interface MessageHandlerRuntime {
  readonly handle: MessageHandler;
  /** The mapping set in force now. */
  current(): MappingSet;
  /** Stops watching the mappings directory. */
  close(): void;
}

/**
 * Loads the mappings (refusing to start on an invalid set, listing every problem) and returns
 * the handler plus the watcher's off switch.
 */
export async function createMessageHandler(config: Config, logger: Logger): Promise<MessageHandlerRuntime> {
  let current = await loadMappingSet(config.mappingsDir);
  let flags: ResultFlags = await loadResultFlags(config.mappingsDir);
  logger.info({ mappingVersion: current.version }, 'mappings loaded');
  const stop = watchMappings(config.mappingsDir, {
    onReload: (set) => {
      current = set;
      logger.info({ mappingVersion: set.version }, 'mappings reloaded');
      loadResultFlags(config.mappingsDir).then(
        (f) => (flags = f),
        (err: unknown) =>
          logger.error({ err: (err as Error).message }, 'result flags refused: keeping the last good table'),
      );
    },
    onError: (err) => {
      logger.error(
        { err: err.message, mappingVersion: current.version },
        'mapping change refused: keeping the last good set',
      );
    },
  });
  const rules = identityRules(config.identity);
  const handle: MessageHandler = async (message, parsed, tx) => {
    const set = current;
    const result = mapMessage(parsed, set, {
      messageId: message.id,
      receivedAt: message.receivedAt.toISOString(),
    });
    if (result.status === 'ignored') {
      return { status: 'ignored', output: { reason: result.reason }, mappingVersion: set.version };
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
    };
  };
  return { handle, current: () => current, close: stop };
}
