// The workbench's pure logic: the engine's 422 problems placed at lines of the file being edited
// (under whatever name the mappings directory has), the dry-run summary and per-message change
// counts from jsondiffpatch deltas, the dry-run selection a form stands for, and replay progress.
import { describe, expect, it } from 'vitest';
import type { DryRunResult } from '../src/console/api/mapping-types';
import { replayFinished, replayFraction, replayProgressText } from '../src/console/errors/replay-job';
import {
  countDelta,
  deltaText,
  resultLabel,
  summarize,
  summaryText,
  verdictOf,
} from '../src/console/mappings/diff-summary';
import { dryRunSelection } from '../src/console/mappings/dry-run-form';
import {
  matchMappingPath,
  parseFileReference,
  problemsForFile,
} from '../src/console/mappings/server-problems';

describe('server problems in the editor', () => {
  it('reads file, line and rule from the engine’s references', () => {
    expect(parseFileReference('rules/patient.yaml:14')).toEqual({ file: 'rules/patient.yaml', line: 14 });
    expect(parseFileReference('mappings/adt.yaml:3#patient.id')).toEqual({
      file: 'mappings/adt.yaml',
      line: 3,
      rule: 'patient.id',
    });
    expect(parseFileReference('codes/v2-0001.csv')).toEqual({ file: 'codes/v2-0001.csv' });
    expect(parseFileReference('PID-3.1')).toBeUndefined();
  });

  it('puts this file’s problems at their lines and lists the others apart', () => {
    const found = problemsForFile(
      [
        {
          severity: 'error',
          code: 'invalid',
          diagnostics: 'unknown table',
          location: ['rules/patient.yaml:22'],
        },
        {
          severity: 'error',
          code: 'invalid',
          diagnostics: 'bad path',
          expression: ['m-xyz/rules/patient.yaml:9#patient.id'],
        },
        { severity: 'error', code: 'invalid', diagnostics: 'missing include', location: ['adt.yaml:12'] },
        { severity: 'error', code: 'invalid', diagnostics: 'no file named' },
        { severity: 'error', code: 'invalid', diagnostics: 'whole file', location: ['rules/patient.yaml'] },
      ],
      'rules/patient.yaml',
    );
    expect(found.here).toEqual([
      { line: 22, message: 'unknown table' },
      { line: 9, message: 'bad path' },
      { message: 'whole file' },
    ]);
    expect(found.elsewhere).toEqual([
      { file: 'adt.yaml', line: 12, message: 'missing include' },
      { message: 'no file named' },
    ]);
  });

  it('does not take another file with the same ending for this one', () => {
    const paths = ['adt.yaml', 'senders/NORTHWIND/adt.yaml', 'rules/patient.yaml'];
    expect(matchMappingPath('mappings/senders/NORTHWIND/adt.yaml', paths)).toBe('senders/NORTHWIND/adt.yaml');
    expect(matchMappingPath('mappings/adt.yaml', paths)).toBe('adt.yaml');
    expect(matchMappingPath('mappings/oru.yaml', paths)).toBeUndefined();
    expect(
      problemsForFile([{ severity: 'error', code: 'x', location: ['radt.yaml:1'] }], 'adt.yaml').here,
    ).toEqual([]);
  });
});

describe('dry-run summary', () => {
  const results: DryRunResult[] = [
    {
      id: '1',
      controlId: 'C1',
      changed: true,
      failed: false,
      delta: { entry: { 0: { resource: { id: ['a', 'b'] } }, _t: 'a' } },
    },
    { id: '2', changed: false, failed: false },
    { id: '3', changed: false, failed: true, errors: [{ severity: 'error', code: 'processing' }] },
    { changed: true, failed: false },
  ];

  it('counts changed, unchanged and failed, and says it', () => {
    expect(results.map(verdictOf)).toEqual(['changed', 'unchanged', 'failed', 'changed']);
    expect(summarize(results)).toEqual({ changed: 2, unchanged: 1, failed: 1 });
    expect(summaryText({ changed: 2, unchanged: 1, failed: 1 })).toBe(
      '2 changed, 1 unchanged, 1 failed (of 4 messages)',
    );
    expect(summaryText({ changed: 0, unchanged: 1, failed: 0 })).toBe(
      '0 changed, 1 unchanged, 0 failed (of 1 message)',
    );
  });

  it('names each result by archive id and control ID, or as pasted', () => {
    expect(results.map((r, i) => resultLabel(r, i))).toEqual([
      'Message 1 (C1)',
      'Message 2',
      'Message 3',
      'Pasted message 4',
    ]);
  });

  it('counts added, removed and modified values in a jsondiffpatch delta', () => {
    const delta = {
      entry: {
        _t: 'a',
        0: {
          resource: {
            gender: ['male', 'female'],
            birthDate: ['1980-01-01'],
            name: { _t: 'a', _0: [{ family: 'X' }, 0, 0] },
          },
        },
        2: [{ resource: { resourceType: 'Encounter' } }],
        _3: [{ resource: { resourceType: 'Location' } }, 0, 0],
      },
      note: ['@@ -1,3 +1,3 @@\n-abc\n+abd\n', 0, 2],
    };
    expect(countDelta(delta)).toEqual({ added: 2, removed: 2, modified: 2 });
    expect(deltaText(countDelta(delta))).toBe('2 added, 2 removed, 2 modified');
    expect(deltaText(countDelta(undefined))).toBe('no differences');
  });
});

describe('dry-run selection', () => {
  const v = { ids: '', hl7: '', sender: '', last: '100' };
  it('turns the form into the request’s messages', () => {
    expect(dryRunSelection('ids', { ...v, ids: '12, 13 14' })).toEqual({ ids: ['12', '13', '14'] });
    expect(dryRunSelection('sender', { ...v, sender: ' MERCY ', last: '50' })).toEqual({
      sender: 'MERCY',
      last: 50,
    });
    expect(dryRunSelection('hl7', { ...v, hl7: 'MSH|^~\\&|A\nPID|1\r\nPV1|1' })).toEqual({
      hl7: 'MSH|^~\\&|A\rPID|1\rPV1|1',
    });
  });

  it('says what is missing', () => {
    expect(dryRunSelection('ids', v)).toBe('Give at least one message id.');
    expect(dryRunSelection('ids', { ...v, ids: '12, x' })).toMatch(/numbers/);
    expect(dryRunSelection('hl7', { ...v, hl7: 'PID|1' })).toMatch(/MSH/);
    expect(dryRunSelection('sender', { ...v, sender: 'M', last: '0' })).toMatch(/1 to 10000/);
  });
});

describe('replay progress', () => {
  it('follows a job to the end', () => {
    const base = { jobId: 'j', total: 4, queued: 0, skipped: 0 };
    expect(replayProgressText({ ...base, state: 'waiting' })).toBe('Waiting to start: 4 messages.');
    const active = { ...base, state: 'active' as const, queued: 2, skipped: 1 };
    expect(replayFraction(active)).toBe(0.75);
    expect(replayFinished(active)).toBe(false);
    expect(replayProgressText(active)).toBe(
      'Queued 2 of 4 messages again, 1 skipped (rejected messages cannot be replayed).',
    );
    const done = { ...base, state: 'completed' as const, queued: 4 };
    expect(replayFinished(done)).toBe(true);
    expect(replayProgressText(done)).toBe('Done: 4 of 4 messages queued again.');
    expect(replayProgressText({ ...base, state: 'failed', failedReason: 'Redis down' })).toBe(
      'The replay stopped after 0 of 4 messages: Redis down.',
    );
    expect(replayFraction({ ...base, total: 0, state: 'completed' })).toBe(1);
  });
});
