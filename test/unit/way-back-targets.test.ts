import { describe, expect, it } from 'vitest';
import type { ChangeLine, FieldWrite } from '../../src/change-line.js';
import { applyTargets, undoTargets } from '../../src/way-back/targets.js';

const S = '11111111-1111-4111-8111-111111111111';
const find = {
  column: 'Call ID',
  lookup: 'K-1',
  by: 'external_id' as const,
  sessionFields: ['external_id'],
  onMultiple: 'fail' as const,
  newestField: 'start_time',
  datePad: 1,
};
let clock = 0;
const line = (run: string, fields: Record<string, FieldWrite>, session = S): ChangeLine => ({
  run,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString(),
  session,
  file: 'in.csv',
  row: clock,
  find,
  fields,
});

describe('undo targets', () => {
  it('two writes of one run: the first before comes back; either write may be what the server holds (a crash between them)', () => {
    const [t] = undoTargets([line('r1', { csi: { before: 1, after: 2 }, note: { after: 'x' } }), line('r1', { csi: { before: 2, after: 3 } })]);
    expect(t!.fields.csi).toEqual({ expect: [{ value: 3 }, { value: 2 }], to: { value: 1 } });
    expect(t!.fields.note).toEqual({ expect: [{ value: 'x' }], to: { absent: true } });
    expect(t!.notes).toEqual([]);
  });

  it('two runs, newest undone first: where another value came between them, only the later change is undone, and a note says so', () => {
    const [t] = undoTargets([line('r1', { csi: { before: 1, after: 2 } }), line('r2', { csi: { before: 7, after: 3 } })]);
    expect(t!.fields.csi!.to).toEqual({ value: 7 });
    expect(t!.notes[0]).toMatch(/run r1 wrote 2, but 7 was there when run r2 wrote/);
  });

  it('lines are taken in the order they were written, whichever log they came from', () => {
    const a = line('r1', { csi: { before: 1, after: 2 } });
    const b = line('r2', { csi: { before: 2, after: 3 } });
    expect(undoTargets([b, a])[0]!.fields.csi).toEqual({ expect: [{ value: 3 }, { value: 2 }], to: { value: 1 } });
  });
});

describe('apply targets', () => {
  it("a session's plan lines: the first before is expected, the last after written", () => {
    const [t] = applyTargets([line('d', { csi: { before: 1, after: 2 } }), line('d', { csi: { before: 2, after: 3 }, note: { after: 'n' } })]);
    expect(t!.fields).toEqual({ csi: { expect: [{ value: 1 }], to: { value: 3 } }, note: { expect: [{ absent: true }], to: { value: 'n' } } });
  });
});
