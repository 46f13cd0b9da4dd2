/**
 * The benchmark's floor: the least a durable MLLP receiver can do here (archive row, queue job,
 * ACK) on the same listener, PostgreSQL and Redis as the engine. The engine's throughput is
 * judged against it, so what is measured is the engine's overhead, not the machine.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { AckErrorCode, buildAck } from '../../hl7/build-ack';
import { readMessageHeader, type MessageHeader } from '../../hl7/message-header';
import type { MllpEvent } from '../../hl7/mllp-frame-reader';
import { parseHl7 } from '../../hl7/parse-message';
import { createLogger } from '../../observability/logger';
import { createMetrics } from '../../observability/metrics';
import type { IngestResult } from '../../pipeline/ingest';
import { startMllpListener } from '../../pipeline/mllp-listener';
import {
  createProcessQueue,
  enqueueMessage,
  messageJobId,
  type ProcessJobData,
} from '../../queue/process-queue';
import { createRedis } from '../../queue/redis-connection';
import { openDb, type Db } from '../../store/db';
import { archiveMessage } from '../../store/message-archive';
import { migrate } from '../../store/migrate';

export interface FloorServerOptions {
  readonly databaseUrl: string;
  readonly schema: string;
  readonly redisUrl: string;
  readonly queuePrefix: string;
}

export interface FloorServer {
  readonly port: number;
  readonly db: Db;
  readonly queue: Queue<ProcessJobData>;
  /** Closes the listener, the queue, Redis and the pool (the schema is the caller's to drop). */
  stop(): Promise<void>;
}

/**
 * Starts the floor server on an ephemeral loopback port.
 * @param o - database, schema, Redis and queue prefix of its own.
 */
export async function startFloorServer(o: FloorServerOptions): Promise<FloorServer> {
  const db = await openDb({ url: o.databaseUrl, schema: o.schema, dataDir: 'memory://' });
  await migrate(db);
  const redis = createRedis(o.redisUrl, { role: 'producer' });
  redis.on('error', () => undefined);
  if (redis.status !== 'ready') await once(redis, 'ready');
  const queue = createProcessQueue(redis, o.queuePrefix);
  const logger = createLogger('silent');
  const handle = createFloorHandler(db, queue);
  const listener = await startMllpListener({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: 1024 * 1024,
    idleTimeoutMs: 60_000,
    maxConnections: 64,
    maxConnectionsPerPeer: 64,
    frameTimeoutMs: 30_000,
    handle,
    logger,
    metrics: createMetrics(false),
  });
  return {
    port: listener.port,
    db,
    queue,
    async stop() {
      await listener.close();
      await queue.close();
      redis.disconnect();
      await db.close();
    },
  };
}

/**
 * The floor's whole ingest: read the header, insert the archive row (autocommit, no transaction),
 * add the job, ACK. No allowlist, no charset handling, no rejected-message archive.
 * @param db - the archive.
 * @param queue - the processing queue.
 */
export function createFloorHandler(
  db: Db,
  queue: Queue<ProcessJobData>,
): (event: MllpEvent) => Promise<IngestResult> {
  return async (event) => {
    if (event.kind !== 'frame') {
      const error = { code: AckErrorCode.SegmentSequence, text: 'not a complete frame' };
      return { ack: buildAck({ code: 'AR', original: {}, error }), code: 'AR' };
    }
    let h: MessageHeader;
    try {
      h = readMessageHeader(parseHl7(event.payload.toString('utf8')));
    } catch {
      const error = { code: AckErrorCode.SegmentSequence, text: 'unreadable message header' };
      return { ack: buildAck({ code: 'AR', original: {}, error }), code: 'AR' };
    }
    try {
      const row = await archiveMessage(db, { ...h, raw: event.payload });
      await enqueueMessage(
        queue,
        { messageId: row.id, controlId: h.controlId, traceId: randomUUID() },
        messageJobId(row),
      );
    } catch {
      const error = { code: AckErrorCode.ApplicationInternalError, text: 'store or queue unavailable' };
      return { ack: buildAck({ code: 'AE', original: h, error }), code: 'AE' };
    }
    return { ack: buildAck({ code: 'AA', original: h }), code: 'AA' };
  };
}
