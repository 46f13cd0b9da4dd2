/**
 * Glue between the MLLP listener and the ingest stage: a handler that never throws, because a
 * frame without an ACK leaves the sender hanging. An unexpected bug still answers AE.
 */
import { describeError } from '../observability/describe-error';
import { AckErrorCode, buildAck } from '../hl7/build-ack';
import type { MllpEvent } from '../hl7/mllp-frame-reader';
import { salvageHeader } from '../hl7/salvage-header';
import { createIngest, type ConnectionInfo, type IngestDeps, type IngestResult } from './ingest';

/**
 * Wraps one ingest stage (one per listener: it holds the per-peer budget of rejected rows) so any
 * unexpected error still produces an AE the sender can retry on.
 */
export function createAckHandler(
  deps: IngestDeps,
): (event: MllpEvent, conn: ConnectionInfo) => Promise<IngestResult> {
  const ingest = createIngest(deps);
  return async (event, conn) => {
    try {
      return await ingest(event, conn);
    } catch (err) {
      deps.logger.error({ err: describeError(err) }, 'ingest failed unexpectedly: answering AE');
      const raw = event.kind === 'oversize' ? event.head : event.payload;
      const h = salvageHeader(raw);
      const ack = buildAck({
        code: 'AE',
        original: h,
        error: { code: AckErrorCode.ApplicationInternalError, text: 'internal error, please resend' },
      });
      return { ack, code: 'AE', reason: 'internal-error' };
    }
  };
}
