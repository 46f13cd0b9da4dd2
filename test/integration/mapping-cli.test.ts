/**
 * The analyst's command-line tools, run as an analyst runs them: `map` prints a Bundle,
 * `mappings:check` lists every problem of a broken mapping with file, line and rule (exit 1), and
 * `mappings:test` runs the golden examples.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsx = (script: string, args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', script, ...args], {
    timeout: 60_000,
    env: { ...process.env, ...env },
  }).catch((err: unknown) => err as { code: number; stdout: string; stderr: string });

/** Encounter.period.start of the Bundle `map` printed. */
function periodStart(stdout: string): unknown {
  const bundle = JSON.parse(stdout) as { entry: { resource: { resourceType: string; period?: unknown } }[] };
  return bundle.entry.find((e) => e.resource.resourceType === 'Encounter')?.resource.period;
}

const dir = path.join(mkdtempSync(path.join(tmpdir(), 'mapping-cli-')), 'mappings');
cpSync('mappings', dir, { recursive: true });
afterAll(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

describe('mapping CLIs', () => {
  it('map prints the Bundle a message maps to', async () => {
    const out = await tsx('engine/src/cli/map.ts', ['mappings/tests/adt-a01.hl7']);
    const bundle = JSON.parse(out.stdout) as {
      resourceType: string;
      entry: { resource: { resourceType: string } }[];
    };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.entry.map((e) => e.resource.resourceType)).toContain('Encounter');
  });

  it('map decodes the file by its MSH-18, as the listener does', async () => {
    const file = path.join(path.dirname(dir), 'latin1.hl7');
    const text =
      'MSH|^~\\&|A|F|B|G|20240101||ADT^A01|X1|P|2.5||||||8859/1\rEVN|A01|20240101\r' +
      'PID|1||123^^^F^MR||M\u00fcller^J\u00fcrgen||19800101|M\rPV1|1|I\r';
    writeFileSync(file, Buffer.from(text, 'latin1'));
    const out = await tsx('engine/src/cli/map.ts', [file]);
    const bundle = JSON.parse(out.stdout) as {
      entry: { resource: { resourceType: string; name?: { family?: string }[] } }[];
    };
    const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient');
    expect(patient?.resource.name?.[0]?.family).toBe('M\u00fcller');
  });

  it('map names a missing file in one line and exits 2', async () => {
    const out = await tsx('engine/src/cli/map.ts', ['no/such/file.hl7']);
    expect((out as { code: number }).code).toBe(2);
    expect(out.stderr.trim()).toBe('cannot read no/such/file.hl7: no such file');
  });

  it('map reads times without an offset in the sender zone, else DEFAULT_TIMEZONE', async () => {
    // adt-a04 comes from LAKESIDE, which has no sender.yaml, and sends no offsets.
    const chicago = await tsx('engine/src/cli/map.ts', ['mappings/tests/adt-a04.hl7'], {
      DEFAULT_TIMEZONE: 'America/Chicago',
    });
    expect(periodStart(chicago.stdout)).toEqual({ start: '2003-01-15T10:20:00-06:00' });
    expect(chicago.stderr).toMatch(/times without an offset read in America\/Chicago/);
    const harborview = await tsx(
      'engine/src/cli/map.ts',
      ['mappings/tests/adt-a04.hl7', '--sender', 'HARBORVIEW'],
      { DEFAULT_TIMEZONE: 'America/Chicago' },
    );
    expect(periodStart(harborview.stdout)).toEqual({ start: '2003-01-15T10:20:00-05:00' });
    const wrong = await tsx('engine/src/cli/map.ts', ['mappings/tests/adt-a04.hl7'], {
      DEFAULT_TIMEZONE: 'Central',
    });
    expect(wrong).toMatchObject({ code: 2 });
    expect(wrong.stderr.trim()).toBe(
      'DEFAULT_TIMEZONE: "Central" is not an IANA time zone such as America/New_York, or UTC',
    );
  });

  it('mappings:check names the line of an unknown sender time zone', async () => {
    const zoned = path.join(mkdtempSync(path.join(tmpdir(), 'mapping-cli-tz-')), 'mappings');
    cpSync('mappings', zoned, { recursive: true });
    writeFileSync(
      path.join(zoned, 'senders/HARBORVIEW/sender.yaml'),
      'description: x\ntimezone: America/Boston\n',
    );
    const out = await tsx('engine/src/cli/mappings-check.ts', [zoned]);
    rmSync(path.dirname(zoned), { recursive: true, force: true });
    expect(out).toMatchObject({ code: 1 });
    expect(out.stderr).toMatch(
      /senders\/HARBORVIEW\/sender\.yaml:2: timezone: "America\/Boston" is not an IANA time zone.*\[unknown-time-zone\]/,
    );
  });

  it('mappings:check names the file, line and rule of every problem, and exits 1', async () => {
    writeFileSync(
      path.join(dir, 'bad.yaml'),
      [
        'messageType: ADT',
        'events: [A09]',
        'resources:',
        '  - name: patient',
        '    type: Patient',
        '    id: [PID-3.1]',
        '    elements:',
        '      gender: { from: PID-8, table: no-such-table }',
        '      birthdate: { from: PID-7 }',
      ].join('\n'),
    );
    const out = await tsx('engine/src/cli/mappings-check.ts', [dir]);
    expect(out).toMatchObject({ code: 1 });
    const text = `${out.stdout}\n${out.stderr}`;
    expect(text).toMatch(/bad\.yaml:8.*no-such-table/);
    expect(text).toMatch(/bad\.yaml:9.*birthdate/);
    expect(text).toMatch(/patient/);
  });

  it('mappings:test passes on the shipped golden examples', async () => {
    const out = await tsx('engine/src/cli/mappings-test.ts', []);
    expect(`${out.stdout}${out.stderr}`).toMatch(/\d+ golden example\(s\), 0 failed/);
  });
});
