/**
 * What makes a resend a duplicate: the same sender and MSH-10 *and* the same content. A sender
 * whose control-ID counter resets (an upgrade, a failover to a standby) sends new messages under
 * old MSH-10s, and treating those as duplicates would acknowledge them and drop them unseen.
 *
 * The hash is SHA-256 (hex) over the frame's bytes, normalised so that what a resend may change
 * without changing the message does not count:
 * - segments are the non-empty runs between CR and LF bytes, joined by one CR: CR, LF and CRLF
 *   separators, blank lines and a trailing separator all hash alike;
 * - in the first segment, when it is an MSH whose field separator is ASCII punctuation other than
 *   a backslash, MSH-7 (the time the message was sent) and MSH-10 are emptied.
 * It reads bytes, not decoded text, so it does not depend on MSH-18. Migration 006 computes the
 * same function in SQL (`hl7_content_hash`) for rows archived before the column existed; a test
 * checks that the two agree.
 */
import { createHash } from 'node:crypto';

const CR = 0x0d;
const LF = 0x0a;
const SEPARATOR = Buffer.of(CR);
/** MSH-7 and MSH-10 as indexes of the MSH line split on its field separator ("MSH" is 0). */
const MSH_7 = 6;
const MSH_10 = 9;

/** SHA-256 hex of the normalised message (see the module comment). */
export function contentHash(raw: Buffer): string {
  const hash = createHash('sha256');
  let start = 0;
  while (start < raw.length && isSeparator(raw[start])) start++;
  let last = raw.length;
  while (last > start && isSeparator(raw[last - 1])) last--;
  if (start === last) return hash.digest('hex');
  // Next CR and LF at or after `i`, each found once: searching afresh for a separator the
  // message never has (LF, usually) would rescan the rest of it for every segment.
  let cr = raw.indexOf(CR, start);
  let lf = raw.indexOf(LF, start);
  const nextSeparator = (i: number): number => {
    if (cr >= 0 && cr < i) cr = raw.indexOf(CR, i);
    if (lf >= 0 && lf < i) lf = raw.indexOf(LF, i);
    let at = last;
    if (cr >= 0 && cr < at) at = cr;
    if (lf >= 0 && lf < at) at = lf;
    return at;
  };
  const firstEnd = nextSeparator(start);
  hash.update(normaliseFirstSegment(raw.subarray(start, firstEnd)));
  // The rest is hashed as it stands wherever a separator already is one CR (most senders), and in
  // pieces around any other run of CR and LF bytes, which becomes one CR.
  let run = firstEnd;
  let i = firstEnd;
  while (i < last) {
    const sep = nextSeparator(i);
    if (sep === last) break;
    let end = sep + 1;
    while (isSeparator(raw[end])) end++;
    if (end !== sep + 1 || raw[sep] !== CR) {
      if (raw[sep] === CR) {
        hash.update(raw.subarray(run, sep + 1));
      } else {
        hash.update(raw.subarray(run, sep));
        hash.update(SEPARATOR);
      }
      run = end;
    }
    i = end;
  }
  hash.update(raw.subarray(run, last));
  return hash.digest('hex');
}

function isSeparator(byte: number | undefined): boolean {
  return byte === CR || byte === LF;
}

/** The first segment with MSH-7 and MSH-10 emptied, when it is an MSH with a usable separator. */
function normaliseFirstSegment(segment: Buffer): Buffer {
  // latin1 maps every byte to one character and back, so the bytes round-trip unchanged.
  const text = segment.toString('latin1');
  const sep = text.charAt(3);
  if (!text.startsWith('MSH') || !isPunctuation(sep)) return segment;
  const fields = text.split(sep);
  if (fields.length > MSH_7) fields[MSH_7] = '';
  if (fields.length > MSH_10) fields[MSH_10] = '';
  return Buffer.from(fields.join(sep), 'latin1');
}

/** ASCII punctuation except the backslash (which the SQL twin's escaped bytes use). */
function isPunctuation(c: string): boolean {
  return c.length === 1 && c > ' ' && c <= '~' && !/[A-Za-z0-9\\]/.test(c);
}
