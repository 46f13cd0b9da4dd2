/**
 * The content hash that tells a resend (a duplicate) from a new message under a reused MSH-10:
 * blind to MSH-7, MSH-10 and the segment separators, sensitive to everything else.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentHash } from '../../engine/src/hl7/content-hash';

const MSH = 'MSH|^~\\&|EPIC|GHH|CARE|CARE|20261125080000-0500||ADT^A01^ADT_A01|CTRL-1|P|2.5.1';
const BODY = ['EVN|A01|20261125080000-0500', 'PID|1||123^^^GHH^MR||Doe^Jane', 'PV1|1|I|ICU^101^A'];
const hashOf = (segments: readonly string[], sep = '\r'): string =>
  contentHash(Buffer.from(segments.join(sep), 'latin1'));
const base = hashOf([MSH, ...BODY]);

/** The definition spelled out on strings, to check the byte scanner against. */
function reference(raw: Buffer): string {
  const segments = raw
    .toString('latin1')
    .split(/[\r\n]+/)
    .filter((s) => s !== '');
  const first = segments[0];
  const sep = first?.charAt(3) ?? '';
  if (first?.startsWith('MSH') === true && /^[!-~]$/.test(sep) && !/[A-Za-z0-9\\]/.test(sep)) {
    const f = first.split(sep);
    if (f.length > 6) f[6] = '';
    if (f.length > 9) f[9] = '';
    segments[0] = f.join(sep);
  }
  return createHash('sha256')
    .update(Buffer.from(segments.join('\r'), 'latin1'))
    .digest('hex');
}

describe('contentHash', () => {
  it('is a SHA-256 in hex', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['CRLF', [MSH, ...BODY].join('\r\n')],
    ['LF', [MSH, ...BODY].join('\n')],
    ['a trailing CR', [MSH, ...BODY].join('\r') + '\r'],
    ['a trailing CRLF and blank lines', '\r\n' + [MSH, ...BODY].join('\r\n\r\n') + '\r\n'],
    ['another MSH-7', [MSH.replace('20261125080000-0500', '20270101000000+0000'), ...BODY].join('\r')],
    ['another MSH-10', [MSH.replace('CTRL-1', 'CTRL-99999'), ...BODY].join('\r')],
    [
      'an empty MSH-7 and MSH-10',
      [MSH.replace('20261125080000-0500', '').replace('CTRL-1', ''), ...BODY].join('\r'),
    ],
  ])('ignores %s', (_what, text) => {
    expect(contentHash(Buffer.from(text, 'latin1'))).toBe(base);
  });

  it.each([
    ['MSH-9', [MSH.replace('ADT^A01^ADT_A01', 'ADT^A08^ADT_A01'), ...BODY]],
    ['MSH-4', [MSH.replace('|GHH|', '|GHX|'), ...BODY]],
    ['MSH-11', [MSH.replace('|P|', '|T|'), ...BODY]],
    ['a PID value', [MSH, BODY[0]!, 'PID|1||124^^^GHH^MR||Doe^Jane', BODY[2]!]],
    ['a space at the end of a segment', [MSH, ...BODY.slice(0, 2), `${BODY[2]!} `]],
    ['a segment fewer', [MSH, ...BODY.slice(0, 2)]],
  ])('sees a change in %s', (_what, segments) => {
    expect(hashOf(segments)).not.toBe(base);
  });

  it('blanks MSH-7 and MSH-10 with whatever field separator MSH-1 declares', () => {
    const hash = (msh: string): string => hashOf([msh, 'PID#1']);
    expect(hash('MSH#^~\\&#A#B#C#D#2026##ADT^A01#ID-1#P#2.5')).toBe(
      hash('MSH#^~\\&#A#B#C#D#2099##ADT^A01#ID-2#P#2.5'),
    );
  });

  it('normalises only the first segment, and only when it is an MSH', () => {
    // A second MSH (text of a field) keeps its MSH-7 and MSH-10.
    expect(hashOf([MSH, 'MSH|^~\\&|A|B|C|D|2026||ADT^A01|X|P|2.5'])).not.toBe(
      hashOf([MSH, 'MSH|^~\\&|A|B|C|D|2027||ADT^A01|Y|P|2.5']),
    );
    expect(hashOf(['PID|1|2|3|4|5|6|7|8|9|10'])).not.toBe(hashOf(['PID|1|2|3|4|5|X|7|8|Y|10']));
  });

  it('copes with a short MSH and with bytes that are not ASCII', () => {
    expect(hashOf(['MSH|^~\\&|A|B'])).toBe(reference(Buffer.from('MSH|^~\\&|A|B')));
    const accented = Buffer.from([MSH, 'PID|1||1||Müller^José'].join('\r'), 'utf8');
    expect(contentHash(accented)).toBe(reference(accented));
  });

  it('agrees with the definition spelled out on strings, for any bytes', () => {
    const segment = fc.string({
      unit: fc.constantFrom('A', 'B', '|', '^', '\\', 'é', ' ', '\r', '\n', '\r\n'),
    });
    const message = fc.tuple(
      fc.constantFrom('MSH|^~\\&|', 'MSH#^~\\&#', 'MSHa^~\\&a', 'MSH\\^~|&\\', 'PID|', ''),
      fc.array(segment, { maxLength: 12 }),
      fc.constantFrom('\r', '\n', '\r\n', '\n\r\n'),
    );
    fc.assert(
      fc.property(message, ([head, parts, sep]) => {
        const raw = Buffer.from(head + parts.join(sep), 'latin1');
        expect(contentHash(raw)).toBe(reference(raw));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes a megabyte of one-character segments in linear time', () => {
    const raw = Buffer.from([MSH, ...Array.from({ length: 300_000 }, () => 'Z')].join('\r'), 'latin1');
    const started = performance.now();
    contentHash(raw);
    // A rescan of the rest of the message per segment would take minutes.
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
