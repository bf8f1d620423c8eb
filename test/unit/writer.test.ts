import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { ReportWriter } from '../../src/report/writer.js';
import { RESULT_COLUMNS, type RowResult } from '../../src/row-result.js';

describe('ReportWriter', () => {
  it('writes results.csv with the columns of RESULT_COLUMNS, failed.csv in the input columns plus the error, changes.csv per field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'et-writer-'));
    const w = await ReportWriter.create(dir, (e) => {
      throw e;
    });
    const ok: RowResult = {
      file: 'a.csv',
      row: 2,
      key: 'k1',
      status: 'updated',
      sessionId: 's1',
      changed: ['csi', 'note'],
      matchedBy: 'Call ID',
      changes: [
        { field: 'csi', before: undefined, after: 5 },
        { field: 'note', before: 'x', after: '=1+1' },
      ],
    };
    const bad: RowResult = {
      file: 'a.csv',
      row: 3,
      key: 'k2',
      status: 'invalid',
      errorCode: 'E_INVALID_VALUE',
      errorMessage: 'a.csv row 3, column "CSAT": expected 1..5',
    };
    await w.record(ok, ['Call ID', 'CSAT'], ['k1', '5']);
    await w.record(bad, ['Call ID', 'CSAT'], ['k2', '=9']);
    await w.close();
    const results = parse(readFileSync(join(dir, 'results.csv')), { columns: true }) as Record<string, string>[];
    expect(Object.keys(results[0]!)).toEqual(RESULT_COLUMNS.map((c) => c.name));
    expect(results.map((r) => [r.row, r.status, r.changed_fields, r.error_code, r.matched_by])).toEqual([
      ['2', 'updated', 'csi;note', '', 'Call ID'],
      ['3', 'invalid', '', 'E_INVALID_VALUE', ''],
    ]);
    const failed = parse(readFileSync(join(dir, 'failed.csv')), { columns: true }) as Record<string, string>[];
    expect(failed).toHaveLength(1);
    // a cell a spreadsheet would run as a formula is neutralised; fed back, it reads as it was
    expect(failed[0]).toMatchObject({ 'Call ID': 'k2', CSAT: "'=9" });
    expect(failed[0]!.et_import_error).toMatch(/^invalid: /);
    const changes = parse(readFileSync(join(dir, 'changes.csv')), { columns: true }) as Record<string, string>[];
    expect(changes.map((c) => [c.field, c.before, c.after])).toEqual([
      ['csi', '', '5'],
      ['note', '"x"', '"=1+1"'],
    ]);
    expect(w.counts).toMatchObject({ updated: 1, invalid: 1, total: 2 });
  });
});
