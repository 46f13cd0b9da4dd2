/**
 * Prometheus metrics: a registry per engine (so tests running several engines don't collide)
 * exposing what an on-call engineer needs: ACKs by code, ACK latency, processing outcomes.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface EngineMetrics {
  readonly registry: Registry;
  readonly acks: Counter<'code'>;
  readonly ackLatency: Histogram;
  readonly junkBytes: Counter;
  readonly connections: Counter<'outcome'>;
  readonly processed: Counter<'status'>;
  readonly processingSeconds: Histogram;
}

/** Builds a fresh registry with the engine's metrics. */
export function createMetrics(withDefaults = true): EngineMetrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    acks: new Counter({
      name: 'mllp_acks_total',
      help: 'ACKs sent, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'mllp_ack_latency_seconds',
      help: 'Time from a complete frame to its ACK being written',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    junkBytes: new Counter({
      name: 'mllp_junk_bytes_total',
      help: 'Bytes received outside MLLP frames',
      registers: [registry],
    }),
    connections: new Counter({
      name: 'mllp_connections_total',
      help: 'MLLP connections, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    processed: new Counter({
      name: 'messages_processed_total',
      help: 'Messages finished by the pipeline, by status',
      labelNames: ['status'],
      registers: [registry],
    }),
    processingSeconds: new Histogram({
      name: 'message_processing_seconds',
      help: 'Time to map and store one message',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}
