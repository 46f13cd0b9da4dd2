// @lhncbc/ucum-lhc ships no type declarations; this is the one call the engine uses.
declare module '@lhncbc/ucum-lhc' {
  interface UcumValidation {
    /** `valid`, `invalid` or `error`. */
    readonly status: string;
  }
  interface UcumLhcUtils {
    validateUnitString(unit: string, suggest?: boolean): UcumValidation;
  }
  const ucum: { readonly UcumLhcUtils: { getInstance(): UcumLhcUtils } };
  export default ucum;
}
