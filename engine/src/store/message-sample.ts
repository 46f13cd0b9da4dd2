/**
 * Archived messages read for a mapping dry run: by id, or a sender's latest, a page at a time,
 * with only what mapping needs (id, MSH-10, raw bytes, receipt time), never the stored output.
 */
import type { Queryable } from './db';
import { messageConditions, whereClause } from './message-query';

/** What a dry run maps. */
export interface SampledMessage {
  readonly id: string;
  readonly controlId: string | null;
  readonly raw: Buffer;
  readonly receivedAt: Date;
}

interface SampleRow {
  id: string;
  control_id: string | null;
  raw: Buffer | Uint8Array;
  received_at: Date | string;
}

const COLUMNS = `id::text AS id, control_id, raw, received_at`;

function toSample(r: SampleRow): SampledMessage {
  return {
    id: r.id,
    controlId: r.control_id,
    raw: Buffer.isBuffer(r.raw) ? r.raw : Buffer.from(r.raw),
    receivedAt: new Date(r.received_at),
  };
}

/**
 * The archived messages among `ids` (decimal strings), in the order asked for; ids not archived
 * are absent.
 */
export async function readMessagesById(db: Queryable, ids: readonly string[]): Promise<SampledMessage[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<SampleRow>(`SELECT ${COLUMNS} FROM messages WHERE id = ANY($1::bigint[])`, [
    ids,
  ]);
  const byId = new Map(rows.map((r) => [r.id, toSample(r)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * A sender's messages, newest first, before the cursor: `sender` is MSH-4, or MSH-3^MSH-4 as in
 * `/api/messages`. Rejected messages (never mappable) are left out.
 * @param before - the smallest id of the previous page, or undefined for the newest.
 */
export async function readSenderMessages(
  db: Queryable,
  sender: string,
  before: string | undefined,
  limit: number,
): Promise<SampledMessage[]> {
  // The message list's sender rule and paging (store/message-query.ts).
  const c = messageConditions({ sender, ...(before !== undefined ? { before } : {}) }, [
    `status <> 'rejected'`,
  ]);
  const params = [...c.params, limit];
  const rows = await db.query<SampleRow>(
    `SELECT ${COLUMNS} FROM messages ${whereClause(c)} ORDER BY ${c.order} DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toSample);
}
