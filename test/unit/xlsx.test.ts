import { describe, expect, it } from 'vitest';
import { missedEntries } from '../../src/input/xlsx.js';

const workbook = [
  '[Content_Types].xml',
  '_rels/.rels',
  'xl/workbook.xml',
  'xl/_rels/workbook.xml.rels',
  'xl/worksheets/sheet1.xml',
  'xl/sharedStrings.xml',
  'xl/styles.xml',
];

describe('missedEntries', () => {
  it('names the entries the workbook holds but exceljs had not read when it handed over the sheet', () => {
    expect(missedEntries(workbook, { model: {} })).toEqual(['xl/sharedStrings.xml', 'xl/_rels/workbook.xml.rels']);
    expect(missedEntries(workbook, { workbookRels: [], model: {} })).toEqual(['xl/sharedStrings.xml']);
  });

  it('names xl/workbook.xml when it comes before the sheets and was not read (exceljs would throw, or lose the sheet names)', () => {
    expect(missedEntries(workbook, { sharedStrings: [], workbookRels: [] })).toEqual(['xl/workbook.xml']);
    // after the sheets, a sheet streamed as it comes is handed over before the workbook is read
    const late = [...workbook.filter((e) => e !== 'xl/workbook.xml'), 'xl/workbook.xml'];
    expect(missedEntries(late, { sharedStrings: [], workbookRels: [] })).toEqual([]);
  });

  it('is empty when exceljs read them, or when the workbook has none to read', () => {
    expect(missedEntries(workbook, { sharedStrings: [], workbookRels: [], model: {} })).toEqual([]);
    // a workbook with inline strings only has no shared-strings table
    expect(
      missedEntries(
        workbook.filter((e) => e !== 'xl/sharedStrings.xml'),
        { workbookRels: [], model: {} },
      ),
    ).toEqual([]);
  });
});
