/**
 * One value read from a message (a field repetition, a component or a subcomponent) that a
 * datatype conversion can take apart by position without knowing how deep it sits.
 */
import type { Hl7Delimiters } from '../hl7/parse-message';
import { unescapeHl7 } from '../hl7/read-value';

/** 0: a whole repetition (parts are components); 1: a component (parts are subcomponents); 2: a subcomponent. */
export type Hl7ValueDepth = 0 | 1 | 2;

/** A raw (still escaped) HL7 value with positional access to its parts. */
export class Hl7Value {
  readonly raw: string;
  readonly depth: Hl7ValueDepth;
  readonly delimiters: Hl7Delimiters;
  /**
   * The parts, split on first use and each made once: a conversion reads most parts of a value
   * (XPN, XAD, CX), some more than once.
   */
  private parts: (Hl7Value | undefined)[] | undefined;
  /** The text, unescaped on first use (`null`: empty). */
  private memo: string | null | undefined;
  constructor(raw: string, depth: Hl7ValueDepth, delimiters: Hl7Delimiters) {
    this.raw = raw;
    this.depth = depth;
    this.delimiters = delimiters;
  }

  /**
   * The whole value, unescaped; undefined when empty or HL7 null (`""`). A component holding
   * subcomponents (`OMU&9.8&ISO`, an HD inside a PL) reads as its first subcomponent, or the first
   * valued one: a subcomponent separator is structure, and never becomes part of a name or text.
   */
  text(): string | undefined {
    if (this.memo === undefined) this.memo = this.readText() ?? null;
    return this.memo ?? undefined;
  }

  private readText(): string | undefined {
    if (this.depth === 1 && this.raw.includes(this.delimiters.subcomponent)) {
      for (const sub of this.raw.split(this.delimiters.subcomponent)) {
        const t = clean(unescapeHl7(sub, this.delimiters));
        if (t !== undefined) return t;
      }
      return undefined;
    }
    return clean(unescapeHl7(this.raw, this.delimiters));
  }

  /** Part n (1-based): the component of a repetition, or the subcomponent of a component. */
  part(n: number): string | undefined {
    return this.partValue(n)?.text();
  }

  /** Part n as a value, so a composite inside a composite (CX.4 is an HD) can be read the same way. */
  partValue(n: number): Hl7Value | undefined {
    if (this.depth === 2) return n === 1 ? this : undefined;
    if (this.parts === undefined) {
      const sep = this.depth === 0 ? this.delimiters.component : this.delimiters.subcomponent;
      const depth = this.depth === 0 ? 1 : 2;
      const raws = this.raw.includes(sep) ? this.raw.split(sep) : [this.raw];
      this.parts = raws.map((raw) => (raw === '' ? undefined : new Hl7Value(raw, depth, this.delimiters)));
    }
    return this.parts[n - 1];
  }

  /** Subpart m of part n, e.g. `sub(1, 1)` is XPN-1.1 (the surname of the family name). */
  sub(n: number, m: number): string | undefined {
    return this.partValue(n)?.part(m);
  }
}

function clean(v: string): string | undefined {
  const t = v.trim();
  return t === '' || t === '""' ? undefined : t;
}
