/**
 * A message as an analyst reads it: every valued field, repetition, component and subcomponent
 * with its position (`PID-5.1`), its name from the V2-to-FHIR tables and its text with escape
 * sequences decoded. Segments the tables do not know (Z-segments) are shown without names.
 */
import { displayText } from './display-text';
import { componentEntry, fieldDictionary, fieldEntry, type FieldDictionary } from './field-dictionary';
import type { Hl7Delimiters, Hl7Message, Hl7Segment } from './parse-message';
import { getRepetitions } from './read-value';

/** A component or subcomponent. */
export interface LabelledPart {
  /** `PID-5.1`, `PID-3[2].4.1`. */
  readonly position: string;
  /** The reference tables' name; absent where they have none. */
  readonly label?: string;
  /** Decoded text; for a component with subcomponents, the whole component. */
  readonly value: string;
  readonly subcomponents?: readonly LabelledPart[];
}

/** A field, or one repetition of it. */
export interface LabelledValue {
  /** `PID-5`, or `PID-3[2]` for a repetition. */
  readonly position: string;
  readonly label?: string;
  /** Decoded text of the whole field (or repetition), delimiters included. */
  readonly value: string;
  /** Present when the value has components (or subcomponents). */
  readonly components?: readonly LabelledPart[];
}

export interface LabelledField extends LabelledValue {
  /** Present when the field repeats; then each repetition carries its own components. */
  readonly repetitions?: readonly LabelledValue[];
}

export interface LabelledSegment {
  readonly name: string;
  /** 1-based position of the segment in the message. */
  readonly index: number;
  /** Valued fields only, in order. */
  readonly fields: readonly LabelledField[];
}

/** Every segment of a message, labelled. */
export function labelSegments(
  message: Hl7Message,
  dictionary: FieldDictionary = fieldDictionary(),
): LabelledSegment[] {
  return message.segments.map((s) => ({
    name: s.name,
    index: s.index,
    fields: labelFields(s, message.delimiters, dictionary),
  }));
}

function labelFields(s: Hl7Segment, d: Hl7Delimiters, dictionary: FieldDictionary): LabelledField[] {
  const fields: LabelledField[] = [];
  for (let n = 1; n < s.fields.length; n++) {
    const raw = s.fields[n] ?? '';
    if (raw === '') continue;
    const position = `${s.name}-${n}`;
    const entry = fieldEntry(s.name, n, dictionary);
    const label = entry?.name;
    // MSH-1 is the field separator and MSH-2 the delimiters themselves: shown as sent.
    if (s.name === 'MSH' && n <= 2) {
      fields.push({ position, ...(label !== undefined ? { label } : {}), value: raw });
      continue;
    }
    const datatype = n === 5 && s.name === 'OBX' ? observationType(s, d, entry?.datatype) : entry?.datatype;
    const reps = getRepetitions(s, n, d);
    if (reps.length <= 1) {
      fields.push(labelValue(raw, { position, label, datatype }, d, dictionary));
      continue;
    }
    fields.push({
      position,
      ...(label !== undefined ? { label } : {}),
      value: displayText(raw, d),
      repetitions: reps.map((rep, i) =>
        labelValue(rep, { position: `${position}[${i + 1}]`, label, datatype }, d, dictionary),
      ),
    });
  }
  return fields;
}

/** OBX-5's type is whatever OBX-2 says (the tables call it `Varies`). */
function observationType(s: Hl7Segment, d: Hl7Delimiters, fallback: string | undefined): string | undefined {
  const type = displayText(s.fields[2] ?? '', d).trim();
  return /^[A-Z][A-Z0-9]{1,3}$/.test(type) ? type : fallback;
}

/** Where a value sits and what the tables call it. */
interface Place {
  readonly position: string;
  readonly label: string | undefined;
  /** The value's data type, whose components name the parts. */
  readonly datatype: string | undefined;
}

function labelValue(raw: string, at: Place, d: Hl7Delimiters, dictionary: FieldDictionary): LabelledValue {
  const head = { position: at.position, ...(at.label !== undefined ? { label: at.label } : {}) };
  const value = displayText(raw, d);
  if (!raw.includes(d.component) && !raw.includes(d.subcomponent)) return { ...head, value };
  const components: LabelledPart[] = [];
  raw.split(d.component).forEach((comp, i) => {
    if (comp === '') return;
    const entry = componentEntry(at.datatype, i + 1, dictionary);
    const place = { position: `${at.position}.${i + 1}`, label: entry?.name, datatype: entry?.datatype };
    components.push(labelPart(comp, place, d, dictionary));
  });
  return { ...head, value, components };
}

function labelPart(raw: string, at: Place, d: Hl7Delimiters, dictionary: FieldDictionary): LabelledPart {
  const part = {
    position: at.position,
    ...(at.label !== undefined ? { label: at.label } : {}),
    value: displayText(raw, d),
  };
  if (!raw.includes(d.subcomponent)) return part;
  const subcomponents: LabelledPart[] = [];
  raw.split(d.subcomponent).forEach((sub, i) => {
    if (sub === '') return;
    const name = componentEntry(at.datatype, i + 1, dictionary)?.name;
    subcomponents.push({
      position: `${at.position}.${i + 1}`,
      ...(name !== undefined ? { label: name } : {}),
      value: displayText(sub, d),
    });
  });
  return { ...part, subcomponents };
}
