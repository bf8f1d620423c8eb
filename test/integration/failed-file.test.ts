import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkKey, bulkSessions } from '../helpers/bulk.js';
import { importInto } from '../helpers/run.js';
import { metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

const MAPPING =
  'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer, min: 1, max: 5 }\n  phone: { column: Phone }\n  note: { column: Note }\n';
// a cell of each kind a spreadsheet would run as a formula, and a plain negative number
const CELLS = ['=SUM(A1:A2)', '+49 30 1234567', '-ab', '@mention', '\tindented', '\rafter a CR', "'quoted already", '-5'];
const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

function exportWith(csat: number): string {
  const dir = tempDir();
  const lines = ['Call ID,CSAT,Phone,Note', ...CELLS.map((c, i) => [bulkKey(i), String(csat), c, `n ${c}`].map(quote).join(','))];
  writeFileSync(join(dir, 'export.csv'), `${lines.join('\r\n')}\r\n`);
  writeFileSync(join(dir, 'm.yaml'), MAPPING);
  return dir;
}

describe('failed.csv fed back', () => {
  it('imports exactly the values of the original export, with or without its et_import_error column, while its cells stay safe to open', async () => {
    const reference = await startSandbox({ sessions: bulkSessions(10) });
    const fedBack = await startSandbox({ sessions: bulkSessions(10) });
    const without = await startSandbox({ sessions: bulkSessions(10) });
    try {
      const good = exportWith(3);
      await importInto(reference.url, { inputs: [join(good, 'export.csv')], mapping: join(good, 'm.yaml') });
      // the same export with a bad CSAT in every row: every row lands in failed.csv
      const bad = exportWith(9);
      const first = await importInto(fedBack.url, { inputs: [join(bad, 'export.csv')], mapping: join(bad, 'm.yaml') });
      expect(first.counts.invalid).toBe(CELLS.length);
      const failed = readFileSync(join(first.reportDir, 'failed.csv'), 'utf8');
      // safe to open: no line of it starts a cell with a formula character
      for (const c of CELLS.slice(0, 6)) expect(failed).not.toContain(`,${c}`);
      // the user fixes the bad cell and feeds the file back
      const fixed = join(tempDir(), 'fixed.csv');
      writeFileSync(fixed, failed.replace(/^(K-\d+),9,/gm, '$1,3,'));
      const again = await importInto(fedBack.url, { inputs: [fixed], mapping: join(bad, 'm.yaml') });
      expect(again.counts.updated).toBe(CELLS.length);
      expect(metadataById(fedBack)).toEqual(metadataById(reference));
      // and without the et_import_error column
      const bare = join(tempDir(), 'bare.csv');
      writeFileSync(
        bare,
        readFileSync(fixed, 'utf8')
          .replace(/,et_import_error\r\n/, '\r\n')
          .replace(/,"?invalid: [^\r]*(\r\n)/g, '$1'),
      );
      const third = await importInto(without.url, { inputs: [bare], mapping: join(bad, 'm.yaml') });
      expect(third.counts.updated).toBe(CELLS.length);
      expect(metadataById(without)).toEqual(metadataById(reference));
      expect(metadataById(reference)[Object.keys(metadataById(reference))[1]!]!.phone).toBe('+49 30 1234567');
    } finally {
      await reference.close();
      await fedBack.close();
      await without.close();
    }
  });

  it('an XLSX date-time cell fed back through failed.csv is read as the same instant and the same text', async () => {
    const { default: ExcelJS } = await import('exceljs');
    const mapping = [
      'match: { column: Call ID }',
      'fields:',
      '  csi: { column: CSAT, type: integer, min: 1, max: 5 }',
      '  started: { column: Started, type: datetime, timezone: Europe/Berlin }',
      '  shown: { column: Started }',
      '  day: { column: Day, type: date }',
    ].join('\n');
    const workbook = async (csat: number) => {
      const dir = tempDir();
      const wb = new ExcelJS.Workbook();
      const sheet = wb.addWorksheet('Calls');
      sheet.addRow(['Call ID', 'CSAT', 'Started', 'Day']);
      // Excel date cells: wall-clock time, no zone (exceljs takes and gives them as UTC fields)
      for (let i = 0; i < 3; i++) sheet.addRow([bulkKey(i), csat, new Date(Date.UTC(2025, 5, 29, 11 + i, 48, 0)), new Date(Date.UTC(2025, 5, 29 + i))]);
      await wb.xlsx.writeFile(join(dir, 'export.xlsx'));
      writeFileSync(join(dir, 'm.yaml'), mapping);
      return dir;
    };
    const reference = await startSandbox({ sessions: bulkSessions(5) });
    const fedBack = await startSandbox({ sessions: bulkSessions(5) });
    try {
      const good = await workbook(3);
      await importInto(reference.url, { inputs: [join(good, 'export.xlsx')], mapping: join(good, 'm.yaml') });
      const bad = await workbook(9);
      const first = await importInto(fedBack.url, { inputs: [join(bad, 'export.xlsx')], mapping: join(bad, 'm.yaml') });
      expect(first.counts.invalid).toBe(3);
      const fixed = join(tempDir(), 'fixed.csv');
      writeFileSync(fixed, readFileSync(join(first.reportDir, 'failed.csv'), 'utf8').replace(/^(K-\d+),9,/gm, '$1,3,'));
      const again = await importInto(fedBack.url, { inputs: [fixed], mapping: join(bad, 'm.yaml') });
      expect(again.counts.updated).toBe(3);
      expect(metadataById(fedBack)).toEqual(metadataById(reference));
      // 11:48 in Berlin in June is 09:48 UTC; the text is the spreadsheet's
      expect(Object.values(metadataById(reference))[0]).toMatchObject({ started: '2025-06-29T09:48:00Z', shown: '2025-06-29 11:48:00', day: '2025-06-29' });
    } finally {
      await reference.close();
      await fedBack.close();
    }
  });
});
