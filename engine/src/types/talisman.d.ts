// talisman ships no type declarations; this is the one function the engine uses.
declare module 'talisman/metrics/jaro-winkler.js' {
  /** Jaro-Winkler similarity of two strings, from 0 (nothing alike) to 1 (equal). */
  export default function jaroWinkler(a: string, b: string): number;
}
