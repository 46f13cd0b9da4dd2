/**
 * Where a dry run's messages come from: archived ones by id or a sender's latest N, read a page
 * at a time and decoded as processing decodes them, or one pasted message.
 */
import { decodeMessage } from '../hl7/decode-message';
import type { Db } from '../store/db';
import { readMessagesById, readSenderMessages, type SampledMessage } from '../store/message-sample';
import type { DryRunMessage } from './mapping-dry-run';

/** Which messages: archived ids, a sender's latest, or a pasted message. */
export type DryRunSelector =
  | { readonly ids: readonly string[] }
  | { readonly sender: string; readonly last: number }
  | { readonly hl7: string };

/** Most messages one dry run maps. */
export const MAX_DRY_RUN_MESSAGES = 10_000;

/** Archive rows read per query. */
const PAGE = 500;

function toDryRun(m: SampledMessage): DryRunMessage {
  return {
    id: m.id,
    ...(m.controlId !== null ? { controlId: m.controlId } : {}),
    text: decodeMessage(m.raw).text,
    receivedAt: m.receivedAt.toISOString(),
  };
}

/** A pasted message with `\n`, `\r\n` or `\r` between segments, as HL7 wants them (`\r`). */
export function pastedMessage(hl7: string, now: Date = new Date()): DryRunMessage {
  const text = hl7
    .replace(/\r\n|\n|\r/g, '\r')
    .replace(/\r+/g, '\r')
    .replace(/^\r|\r$/g, '');
  return { text, receivedAt: now.toISOString() };
}

async function* byIds(db: Db, ids: readonly string[]): AsyncGenerator<DryRunMessage[]> {
  for (let i = 0; i < ids.length; i += PAGE) {
    const page = ids.slice(i, i + PAGE);
    const found = new Map((await readMessagesById(db, page)).map((m) => [m.id, m]));
    yield page.map((id): DryRunMessage => {
      const m = found.get(id);
      if (m !== undefined) return toDryRun(m);
      return {
        id,
        text: '',
        receivedAt: new Date(0).toISOString(),
        unreadable: { severity: 'error', code: 'not-found', diagnostics: `message ${id} is not archived` },
      };
    });
  }
}

async function* bySender(db: Db, sender: string, last: number): AsyncGenerator<DryRunMessage[]> {
  let before: string | undefined;
  for (let left = last; left > 0;) {
    const page = await readSenderMessages(db, sender, before, Math.min(PAGE, left));
    if (page.length === 0) return;
    yield page.map(toDryRun);
    left -= page.length;
    before = page.at(-1)?.id;
  }
}

/** The selected messages, a page at a time. */
export function dryRunMessages(
  db: Db,
  selector: DryRunSelector,
): AsyncIterable<DryRunMessage[]> | Iterable<DryRunMessage[]> {
  if ('ids' in selector) return byIds(db, [...new Set(selector.ids)]);
  if ('sender' in selector) {
    return bySender(db, selector.sender, Math.min(selector.last, MAX_DRY_RUN_MESSAGES));
  }
  return [[pastedMessage(selector.hl7)]];
}
