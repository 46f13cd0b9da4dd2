/**
 * Where each connection gets its next message: a generated feed split into one stream per
 * connection (a patient always travels on the same connection, so their messages stay in order),
 * or a corpus shared by all connections.
 */
import type { CorpusMessage } from './corpus';
import { createFeed, type Feed } from './feed-generator';
import type { Population } from './patient-population';

export interface SourceMessage {
  readonly text: string;
  readonly controlId: string;
  /** MSH-9 as `ADT^A01`. */
  readonly kind: string;
}

/** Hands out messages to connections until a count is reached. */
export interface MessageSource {
  /** The next message for connection `stream`, or undefined when its share is sent. */
  take(stream: number): SourceMessage | undefined;
  /** How many messages will be sent in total at most. */
  readonly total: number;
}

export interface GeneratedSourceOptions {
  readonly population: Population;
  readonly seed: number | string;
  readonly runId: string;
  readonly streams: number;
  readonly count: number;
  readonly start: Date;
}

/**
 * A generated feed; the count is split evenly across streams so a seeded run is reproducible.
 * @param o - population, seed, run ID, number of streams and count.
 */
export function createGeneratedSource(o: GeneratedSourceOptions): MessageSource {
  const feeds: Feed[] = [];
  const quotas: number[] = [];
  for (let s = 0; s < o.streams; s++) {
    feeds.push(
      createFeed({
        population: o.population,
        seed: o.seed,
        runId: o.runId,
        stream: s,
        streams: o.streams,
        start: o.start,
      }),
    );
    quotas.push(Math.floor(o.count / o.streams) + (s < o.count % o.streams ? 1 : 0));
  }
  return {
    total: o.count,
    take(stream: number): SourceMessage | undefined {
      const feed = feeds[stream];
      const left = quotas[stream] ?? 0;
      if (feed === undefined || left <= 0) return undefined;
      quotas[stream] = left - 1;
      return feed.next();
    },
  };
}

/**
 * A corpus sent once, in order, by whichever connection is free.
 * @param messages - the loaded corpus.
 * @param count - send at most this many.
 */
export function createCorpusSource(messages: readonly CorpusMessage[], count: number): MessageSource {
  const total = Math.min(count, messages.length);
  let next = 0;
  return {
    total,
    take(): SourceMessage | undefined {
      if (next >= total) return undefined;
      const m = messages[next++];
      return m === undefined ? undefined : { text: m.text, controlId: m.controlId, kind: m.kind };
    },
  };
}
