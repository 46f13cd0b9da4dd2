/**
 * Hot reload: watches the mappings directory and reloads the set after edits settle. An invalid
 * edit is reported and the caller keeps running on its last good set.
 */
import { watch } from 'node:fs';
import { loadFhirSchemaIndex, loadMappingSet } from './load-mappings';
import type { FhirSchemaIndex } from './fhir-schema-index';
import type { MappingSet } from './mapping-types';

/** What the watcher calls. */
export interface WatchMappingsHandlers {
  /** A changed directory loaded cleanly: switch to this set. */
  readonly onReload: (set: MappingSet) => void;
  /** A change could not be loaded (usually a MappingLoadError listing every problem). */
  readonly onError: (err: Error) => void;
}

/** Options for watchMappings. */
export interface WatchMappingsOptions {
  /** Quiet time after the last change before reloading. @defaultValue 200 */
  readonly debounceMs?: number;
  /**
   * What a change runs instead of loading `dir` itself: a caller that also reloads on its own
   * (an in-process deploy) funnels both through one queue, so an older read never lands last.
   * @defaultValue loadMappingSet(dir) with a FHIR schema index kept across reloads
   */
  readonly load?: () => Promise<MappingSet>;
}

/**
 * Watches `dir` recursively and reloads on change.
 * @returns a function that stops watching.
 */
export function watchMappings(
  dir: string,
  handlers: WatchMappingsHandlers,
  options: WatchMappingsOptions = {},
): () => void {
  const debounceMs = options.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let schema: FhirSchemaIndex | undefined;
  let lastVersion: string | undefined;
  let closed = false;
  const load =
    options.load ??
    (async (): Promise<MappingSet> => {
      schema ??= await loadFhirSchemaIndex();
      return loadMappingSet(dir, { schema });
    });
  const reload = async (): Promise<void> => {
    const set = await load();
    if (closed || set.version === lastVersion) return;
    lastVersion = set.version;
    handlers.onReload(set);
  };
  const watcher = watch(dir, { recursive: true }, () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      reload().catch((err: unknown) => {
        if (!closed) handlers.onError(err instanceof Error ? err : new Error(String(err)));
      });
    }, debounceMs);
  });
  watcher.on('error', (err) => {
    handlers.onError(err);
  });
  return () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
  };
}
