/**
 * "New since my last look" for one patient: the previous look is read once when the timeline
 * first shows, and this look is saved then, so marks stay put while the PCP reads and are gone
 * next time. "Mark all as seen" moves the mark to now.
 */
import { useCallback, useEffect, useState } from 'react';
import { readLastLook, writeLastLook, type LastLookStorage } from '../timeline/last-look';

export interface LastLook {
  /** When the PCP last looked (before this visit), if this browser remembers. */
  readonly previous: string | undefined;
  /** Whether this browser can remember looks at all. */
  readonly available: boolean;
  readonly markSeen: () => void;
}

function browserStorage(): LastLookStorage | undefined {
  try {
    return window.localStorage;
  } catch {
    // A sandboxed frame refuses localStorage: then there is no "since last look" to show.
    return undefined;
  }
}

/**
 * @param key - `lastLookKey(issuer, patient)`.
 * @param ready - true once the timeline has loaded (saving earlier would hide what the PCP never saw).
 * @param storage - @defaultValue window.localStorage
 */
export function useLastLook(key: string, ready: boolean, storage?: LastLookStorage): LastLook {
  const [store] = useState(() => storage ?? browserStorage());
  const [previous, setPrevious] = useState(() => readLastLook(store, key));
  const [available, setAvailable] = useState(store !== undefined);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (!ready || saved) return;
    setSaved(true);
    setAvailable(writeLastLook(store, key, new Date().toISOString()));
  }, [ready, saved, store, key]);

  const markSeen = useCallback(() => {
    const now = new Date().toISOString();
    writeLastLook(store, key, now);
    setPrevious(now);
  }, [store, key]);

  return { previous, available, markSeen };
}
