/**
 * HL7 escape sequences decoded for a person reading the value, not for a mapping: besides the
 * delimiters and hex data that `unescapeHl7` resolves, formatting commands (`\H\`, `\.sp\`,
 * `\.in\` ...) become line breaks or vanish, and hex data that is UTF-8 reads as UTF-8.
 */
import type { Hl7Delimiters } from './parse-message';
import { unescapeHl7 } from './read-value';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of one raw value (a field, component or subcomponent, still escaped) with every
 * escape sequence decoded. Unknown sequences (`\Zxx\` local escapes, `\Cxxyy\` character set
 * switches) stay as they were sent, so nothing is silently dropped.
 */
export function displayText(raw: string, d: Hl7Delimiters): string {
  const e = d.escape;
  if (e === '' || !raw.includes(e)) return raw;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const end = raw.charAt(i) === e ? raw.indexOf(e, i + 1) : -1;
    if (end < 0) {
      out += raw.charAt(i);
      i++;
      continue;
    }
    const code = raw.slice(i + 1, end);
    out += formatting(code) ?? hexText(code) ?? unescapeHl7(`${e}${code}${e}`, d);
    i = end + 1;
  }
  return out;
}

/** Formatting commands (v2 chapter 2, "Formatted text"), as plain text can show them. */
function formatting(code: string): string | undefined {
  // Highlighting on and off: there is no highlighting in plain text.
  if (code === 'H' || code === 'N') return '';
  const m = /^\.(sp|br|fi|nf|in|ti|sk|ce)\s*([+-]?\d*)$/.exec(code);
  if (m === null) return undefined;
  const n = Math.min(Number(m[2] === '' || m[2] === undefined ? '1' : m[2]), 100);
  const command = m[1] as 'sp' | 'br' | 'fi' | 'nf' | 'in' | 'ti' | 'sk' | 'ce';
  switch (command) {
    case 'sp':
      return '\n'.repeat(Math.max(n, 1));
    case 'br':
    case 'ce':
      return '\n';
    case 'sk':
      return ' '.repeat(Math.max(n, 1));
    // Fill mode and indents change layout only.
    case 'fi':
    case 'nf':
    case 'in':
    case 'ti':
      return '';
  }
}

/** `\Xhh..\` as UTF-8 when the bytes are UTF-8; otherwise the one-byte reading unescapeHl7 gives. */
function hexText(code: string): string | undefined {
  if (!/^X([0-9A-Fa-f]{2})+$/.test(code)) return undefined;
  try {
    return UTF8.decode(Buffer.from(code.slice(1), 'hex'));
  } catch {
    return undefined;
  }
}
