/**
 * Escape sequences decoded for reading: delimiters, hex data (UTF-8 when it is), formatting
 * commands, and unknown sequences kept as sent.
 */
import { describe, expect, it } from 'vitest';
import { displayText } from '../../engine/src/hl7/display-text';
import type { Hl7Delimiters } from '../../engine/src/hl7/parse-message';

const d: Hl7Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

describe('displayText', () => {
  it('decodes the delimiter escapes', () => {
    expect(displayText(String.raw`A\F\B\S\C\T\D\R\E\E\F`, d)).toBe('A|B^C&D~E\\F');
  });

  it('decodes with the message own escape character', () => {
    const hash: Hl7Delimiters = { ...d, escape: '#' };
    expect(displayText('Smith #T# Sons #F# Co', hash)).toBe('Smith & Sons | Co');
  });

  it('turns line formatting into line breaks and drops highlighting', () => {
    expect(displayText(String.raw`line one\.br\line two\.sp2\\H\bold\N\ end`, d)).toBe(
      'line one\nline two\n\nbold end',
    );
    expect(displayText(String.raw`a\.sk 3\b\.in+4\c\.ti-2\d\.fi\\.nf\\.ce\e`, d)).toBe('a   bcd\ne');
  });

  it('reads hex data as UTF-8 when it is, else one byte a character', () => {
    expect(displayText(String.raw`M\XC3BC\ller`, d)).toBe('Müller');
    expect(displayText(String.raw`M\XFC\ller`, d)).toBe('Müller');
  });

  it('keeps unknown and unterminated sequences as sent', () => {
    expect(displayText(String.raw`x\Zlocal\y`, d)).toBe(String.raw`x\Zlocal\y`);
    expect(displayText(String.raw`\C2842\abc`, d)).toBe(String.raw`\C2842\abc`);
    expect(displayText(String.raw`trailing \F`, d)).toBe(String.raw`trailing \F`);
  });

  it('leaves text without escapes alone', () => {
    expect(displayText('plain^text&more', d)).toBe('plain^text&more');
    expect(displayText('', d)).toBe('');
  });
});
