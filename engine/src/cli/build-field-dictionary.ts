/**
 * Regenerates engine/src/hl7/field-dictionary.json, the labels of the message view (`PID-5`
 * "Patient Name", `XPN.1` "Family Name"), from the V2-to-FHIR guide's segment and data type
 * tables. The JSON is committed, so a clone without the reference folder still labels messages.
 * Run: `tsx engine/src/cli/build-field-dictionary.ts [REFERENCE_DIR]`
 * (default /work/shared/reference/v2-to-fhir, the folder holding LICENSE, SOURCE-COMMIT, mappings/).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import hl7Dictionary from 'hl7-dictionary';
import { format, resolveConfig } from 'prettier';
import type { FieldDictionary, FieldEntry } from '../hl7/field-dictionary';

const DEFAULT_REFERENCE_DIR = '/work/shared/reference/v2-to-fhir';
const OUT_FILE = fileURLToPath(new URL('../hl7/field-dictionary.json', import.meta.url));

const SEGMENT_FIELD = /^([A-Z][A-Z0-9]{2})-(\d+)$/;
const DATATYPE_COMPONENT = /^([A-Z][A-Z0-9]{1,3})\.(\d+)$/;
/** A segment in a message structure table: `ADT_A01.PID`, `ADT_A01.INSURANCE.IN2`, `ORU_R01:follow:PID.ROL`. */
const MESSAGE_SEGMENT = /\.([A-Z][A-Z0-9]{2})$/;

/**
 * The primitive data types of HL7 v2 (chapter 2A): values without components. Listed, not derived:
 * the guide has a table for some (ST, NM) and none for others (SI, TX), and a one-row table does
 * not tell a primitive from a composite the guide maps by its first component only.
 */
const STANDARD_PRIMITIVES = ['DT', 'DTM', 'FT', 'GTS', 'ID', 'IS', 'NM', 'SI', 'SNM', 'ST', 'TM', 'TX'];

/** Every `[identifier, name, datatype]` row of one table; header and note rows do not match. */
function rowsOf(text: string): [string, string, string][] {
  const records: string[][] = parse(text, {
    relaxColumnCount: true,
    relaxQuotes: true,
    skipEmptyLines: true,
  });
  return records.flatMap((r) => {
    const [, id = '', name = '', type = ''] = r.map((c) => c.replace(/\s+/g, ' ').trim());
    return id !== '' && name !== '' ? [[id, name, type] as [string, string, string]] : [];
  });
}

/**
 * One entry per position. Tables that map one segment to several resources repeat its fields;
 * where they disagree (a typo in one sheet), the name most tables give wins, then the first seen
 * in file-name order, so a rebuild from the same commit is byte-identical.
 */
class Votes {
  private readonly byKey = new Map<string, Map<string, { entry: FieldEntry; count: number }>>();

  add(owner: string, position: string, entry: FieldEntry): void {
    const key = `${owner}\u0000${position}`;
    const options = this.byKey.get(key) ?? new Map<string, { entry: FieldEntry; count: number }>();
    const id = `${entry.name}\u0000${entry.datatype ?? ''}`;
    const seen = options.get(id);
    if (seen !== undefined) seen.count++;
    else options.set(id, { entry, count: 1 });
    this.byKey.set(key, options);
  }

  /** owner → position → winning entry, both in natural order. */
  result(): Record<string, Record<string, FieldEntry>> {
    const out: Record<string, Record<string, FieldEntry>> = {};
    const keys = [...this.byKey.keys()].sort((a, b) => {
      const [oa = '', pa = ''] = a.split('\u0000');
      const [ob = '', pb = ''] = b.split('\u0000');
      return oa === ob ? Number(pa) - Number(pb) : oa < ob ? -1 : 1;
    });
    for (const key of keys) {
      const [owner = '', position = ''] = key.split('\u0000');
      let best: { entry: FieldEntry; count: number } | undefined;
      for (const option of this.byKey.get(key)?.values() ?? []) {
        if (best === undefined || option.count > best.count) best = option;
      }
      if (best !== undefined) (out[owner] ??= {})[position] = best.entry;
    }
    return out;
  }
}

/** Segment names of the message structure tables, e.g. IN2 and GT1, which have no field table. */
function messageSegments(texts: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const text of texts) {
    for (const [id] of rowsOf(text)) {
      const m = MESSAGE_SEGMENT.exec(id.replace(/^\//, ''));
      if (m?.[1] !== undefined) names.add(m[1]);
    }
  }
  return names;
}

async function tablesIn(dir: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.csv')).sort();
  return Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')));
}

/** `2.5.1` before `2.6`: version strings compared part by part. */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function entryOf(name: string, datatype: string): FieldEntry {
  // `Varies` (OBX-5) and blanks name no data type whose components could be labelled.
  return /^[A-Z][A-Z0-9]{1,3}$/.test(datatype) ? { name, datatype } : { name };
}

export async function buildFieldDictionary(referenceDir: string): Promise<FieldDictionary> {
  const mappings = path.join(referenceDir, 'mappings');
  const segments = new Votes();
  for (const text of await tablesIn(path.join(mappings, 'segments'))) {
    for (const [id, name, type] of rowsOf(text)) {
      const m = SEGMENT_FIELD.exec(id);
      if (m?.[1] !== undefined && m[2] !== undefined) segments.add(m[1], m[2], entryOf(name, type));
    }
  }
  const datatypes = new Votes();
  for (const text of await tablesIn(path.join(mappings, 'datatypes'))) {
    for (const [id, name, type] of rowsOf(text)) {
      const m = DATATYPE_COMPONENT.exec(id);
      if (m?.[1] !== undefined && m[2] !== undefined) datatypes.add(m[1], m[2], entryOf(name, type));
    }
  }
  // A primitive's table (ST, ID, NM) lists the value itself as its one "component": it has none.
  const composite = Object.fromEntries(
    Object.entries(datatypes.result()).filter(([, components]) => Object.keys(components).length > 1),
  );
  const known = messageSegments(await tablesIn(path.join(mappings, 'messages')));
  const fields = segments.result();
  for (const name of Object.keys(fields)) known.add(name);
  // The guide maps some 60 segments; the standard defines more (IAR of an A60, ERR, QRD), and a
  // mapping may read any of them. hl7-dictionary's tables of v2.1 to v2.7.1 name every segment and,
  // for one the guide has no table of, its fields, from the newest version that defines it.
  for (const version of [...Object.keys(hl7Dictionary.definitions)].sort(compareVersions).reverse()) {
    for (const [name, def] of Object.entries(hl7Dictionary.definitions[version]?.segments ?? {})) {
      known.add(name);
      if (fields[name] !== undefined) continue;
      fields[name] = Object.fromEntries(
        def.fields.map((f, i) => [String(i + 1), entryOf(f.desc, f.datatype)]),
      );
    }
  }
  const commit = (await readFile(path.join(referenceDir, 'SOURCE-COMMIT'), 'utf8')).split(/\s/)[0] ?? '';
  return {
    source:
      'HL7 V2-to-FHIR implementation guide mapping tables (github.com/HL7/v2-to-fhir, mappings/segments, ' +
      `mappings/datatypes and mappings/messages) at commit ${commit}; Apache License 2.0, http://www.apache.org/licenses/LICENSE-2.0. ` +
      'Segments the guide has no table of: hl7-dictionary 1.0.1 (v2.1 to v2.7.1, MIT). ' +
      'Derived: field and component names and data types, and segment names; primitives are the data types HL7 chapter 2A defines as such. Regenerate with engine/src/cli/build-field-dictionary.ts.',
    segments: fields,
    datatypes: composite,
    segmentNames: [...known].sort(),
    primitives: [...STANDARD_PRIMITIVES].sort(),
  };
}

async function main(): Promise<void> {
  const referenceDir = process.argv[2] ?? DEFAULT_REFERENCE_DIR;
  const dictionary = await buildFieldDictionary(referenceDir);
  const options = (await resolveConfig(OUT_FILE)) ?? {};
  // From one line, Prettier keeps each entry on a line of its own: a short file, readable diffs.
  const text = await format(JSON.stringify(dictionary), { ...options, parser: 'json' });
  await writeFile(OUT_FILE, text);
  const count = (o: Record<string, Record<string, FieldEntry>>): number =>
    Object.values(o).reduce((n, fields) => n + Object.keys(fields).length, 0);
  process.stdout.write(
    `wrote ${OUT_FILE}: ${Object.keys(dictionary.segments).length} segments (${count(dictionary.segments)} fields), ` +
      `${Object.keys(dictionary.datatypes).length} data types (${count(dictionary.datatypes)} components)\n`,
  );
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `build-field-dictionary failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  });
}
