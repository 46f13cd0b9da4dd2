/**
 * Loads a directory of .hl7 files for `--corpus`: each message is sent as written except that
 * MSH-10 gets `-<runId>` appended (and `-<n>` on the n-th reuse of an ID within the corpus), so
 * a corpus whose files share control IDs is not acknowledged as duplicates, nor is a second run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusMessage {
  /** File name, plus `#n` when a file holds several messages. */
  readonly source: string;
  readonly text: string;
  readonly controlId: string;
  /** MSH-9.1^MSH-9.2, e.g. `ADT^A01`. */
  readonly kind: string;
}

/**
 * Reads every `*.hl7` file in `dir`, in name order.
 * @param dir - the corpus directory.
 * @param runId - appended to each MSH-10.
 */
export function loadCorpus(dir: string, runId: string): CorpusMessage[] {
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.hl7'))
    .sort();
  const messages: CorpusMessage[] = [];
  const seen = new Map<string, number>();
  for (const file of files) {
    const parts = splitMessages(readFileSync(join(dir, file), 'utf8'));
    parts.forEach((text, i) => {
      // Sample sets reuse MSH-10s (38 of the public corpus files say MSG00001): the 2nd, 3rd ...
      // message with an ID also gets its occurrence number, or the engine would ACK it as a duplicate.
      const original = suffixControlId(text, '').controlId;
      const occurrence = (seen.get(original) ?? 0) + 1;
      seen.set(original, occurrence);
      const rewritten = suffixControlId(text, occurrence === 1 ? `-${runId}` : `-${runId}-${occurrence}`);
      messages.push({
        source: parts.length > 1 ? `${file}#${i + 1}` : file,
        kind: messageKind(text),
        ...rewritten,
      });
    });
  }
  return messages;
}

/**
 * Splits file text into messages at each MSH. A UTF-8 byte-order mark is dropped and line breaks
 * become CR, the MLLP segment separator: both are file-storage artefacts, not message content.
 * @param fileText - the file as read.
 */
export function splitMessages(fileText: string): string[] {
  const lines = fileText
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .filter((l) => l.trim() !== '');
  const messages: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('MSH') || messages.length === 0) messages.push([]);
    messages[messages.length - 1]?.push(line);
  }
  return messages.map((segments) => segments.join('\r'));
}

function messageKind(text: string): string {
  const sep = text.charAt(3);
  const msh9 = text.split('\r', 1)[0]?.split(sep)[8] ?? '';
  const [type = '?', event = ''] = msh9.split(text.charAt(4));
  return event === '' ? type : `${type}^${event}`;
}

/**
 * Appends `suffix` to MSH-10; a message with an empty MSH-10 is left as it is, so a corpus
 * file meant to be rejected still is.
 * @param text - one message, segments separated by CR.
 * @param suffix - e.g. `-k3x9q1`.
 */
export function suffixControlId(text: string, suffix: string): { text: string; controlId: string } {
  const end = text.indexOf('\r');
  const msh = end < 0 ? text : text.slice(0, end);
  const sep = msh.charAt(3);
  if (!msh.startsWith('MSH') || sep === '') return { text, controlId: '' };
  const fields = msh.split(sep);
  // fields[0] is "MSH" and fields[1] MSH-2, so MSH-10 is fields[9].
  const current = fields[9] ?? '';
  if (current === '') return { text, controlId: '' };
  fields[9] = `${current}${suffix}`;
  return { text: fields.join(sep) + (end < 0 ? '' : text.slice(end)), controlId: fields[9] };
}
