/**
 * Best-effort reading of a header that failed strict parsing, so an AR can still echo MSH-10
 * and name the sender. Never throws.
 */
import type { MessageHeader } from './message-header';

/** Whatever MSH fields can be read from the first line, assuming `|` when MSH-1 is unusable. */
export function salvageHeader(raw: Buffer): Partial<MessageHeader> {
  const text = raw.subarray(0, 4096).toString('latin1');
  const start = text.indexOf('MSH');
  if (start < 0) return {};
  const line = text.slice(start).split(/[\r\n]/)[0] ?? '';
  const sep = /^[A-Za-z0-9]$/.test(line.charAt(3)) || line.charAt(3) === '' ? '|' : line.charAt(3);
  const f = line.split(sep);
  // f[n - 1] is MSH-n because MSH-1 is the separator itself.
  const get = (n: number): string | undefined => {
    const v = f[n - 1]?.split('^')[0]?.trim();
    return v === undefined || v === '' || /[^\x20-\x7e]/.test(v) ? undefined : v.slice(0, 199);
  };
  const out: Record<string, string> = {};
  const app = get(3);
  const fac = get(4);
  const controlId = get(10);
  const version = get(12);
  const event = f[8]?.split('^')[1];
  if (app !== undefined) out['sendingApplication'] = app;
  if (fac !== undefined) out['sendingFacility'] = fac;
  if (controlId !== undefined) out['controlId'] = controlId;
  if (version !== undefined && /^2\.\d/.test(version)) out['version'] = version;
  if (event !== undefined && /^[A-Z0-9]{3}$/.test(event)) out['triggerEvent'] = event;
  return out;
}
