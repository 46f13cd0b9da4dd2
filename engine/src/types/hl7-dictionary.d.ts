// hl7-dictionary ships no type declarations; this is the part the field dictionary's builder reads.
declare module 'hl7-dictionary' {
  interface Hl7DictionaryField {
    readonly datatype: string;
    readonly desc: string;
  }
  interface Hl7DictionaryVersion {
    readonly segments: Readonly<
      Record<string, { readonly desc: string; readonly fields: readonly Hl7DictionaryField[] }>
    >;
  }
  const dictionary: { readonly definitions: Readonly<Record<string, Hl7DictionaryVersion>> };
  export default dictionary;
}
