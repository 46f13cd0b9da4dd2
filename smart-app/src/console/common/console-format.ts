/**
 * Times and durations as an analyst reads them: the browser's zone and locale, seconds shown
 * (messages a second apart are often the story), and "—" for what the engine does not know.
 */
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
});

/** An ISO instant for display; unparseable values show as sent. */
export function formatInstant(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const t = Date.parse(value);
  return Number.isNaN(t) ? value : DATE_TIME.format(t);
}

/** Milliseconds as "12 ms" or "1.4 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "1 message", "3 messages". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A 0–1 rate as a percentage with one decimal. */
export function formatRate(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}
