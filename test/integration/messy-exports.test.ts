import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { bulkId } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto, readCsv, readResults } from '../helpers/run.js';
import { envFor, fixture, startSandbox, tempDir } from '../helpers/sandbox.js';

const messy = (f: string) => fixture(join('messy', f));

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/** A sandbox with one session per key, and a function giving what was PUT for each key. */
async function sandboxFor(keys: string[]) {
  sandbox = await startSandbox({ sessions: keys.map((k, i) => ({ id: bulkId(i + 1), external_id: k, metadata: {} })) });
  const s = sandbox;
  const put = () => {
    const out: Record<string, unknown> = {};
    for (const q of s.requests()) {
      if (q.method !== 'PUT') continue;
      const id = q.path.split('/')[4]!;
      out[String(s.store.get(id)!.external_id)] = q.body;
    }
    return out;
  };
  return { sandbox: s, put };
}

function mappingFile(yaml: string): string {
  const path = join(tempDir(), 'mapping.yaml');
  writeFileSync(path, yaml);
  return path;
}

describe('messy exports: the exact values that reach the API', () => {
  it('German Excel CSV: UTF-8 BOM, ";", CRLF, decimal commas, thousands dots, DD.MM.YYYY, Ja/Nein, leading zeros, padded keys', async () => {
    const { sandbox: sb, put } = await sandboxFor(['0042-77', 'AB-1', 'AB-2']);
    const mapping = mappingFile(`
match: { column: Anruf-ID }
fields:
  csi: { column: Zufriedenheit, type: number, decimal: "," }
  revenue: { column: Umsatz, type: number, decimal: ",", thousands: "." }
  call_date: { column: Datum, type: date, formats: [DD.MM.YYYY] }
  resolved: { column: Gelöst, type: boolean, truthy: [ja], falsy: [nein] }
  customer_id: { column: Kundennummer }
`);
    const r = await importInto(sb.url, { inputs: [messy('de-utf8-bom-semicolon.csv')], mapping });
    expect(r.counts).toMatchObject({ updated: 3, total: 3 });
    expect(put()).toEqual({
      '0042-77': { csi: 4.5, revenue: 1234.5, call_date: '2025-06-29', resolved: true, customer_id: '00017' },
      'AB-1': { csi: 3, revenue: 12, call_date: '2025-02-01', resolved: false, customer_id: '18' },
      'AB-2': { csi: 5, revenue: 0.5, call_date: '2024-12-31', resolved: true, customer_id: '19' },
    });
    expect(r.summary.inputs).toEqual([expect.objectContaining({ encoding: 'utf-8 (BOM)', delimiter: ';' })]);
  });

  it.each([
    ['excel-unicode-text-utf16le.txt', 'utf-16le (BOM)', '\\t'],
    ['utf16be.csv', 'utf-16be (BOM)', '\\t'],
  ])('%s: UTF-16 with BOM, tab-delimited', async (file, encoding, delimiter) => {
    const { sandbox: sb, put } = await sandboxFor(['U16-1', 'U16-2']);
    const r = await importInto(sb.url, {
      inputs: [messy(file)],
      mapping: mappingFile('match: { column: Call ID }\nfields: { customer: Customer, note: Note }\n'),
    });
    expect(put()).toEqual({ 'U16-1': { customer: 'Jürgen Müller', note: 'café ☕' }, 'U16-2': { customer: 'Zoë', note: 'naïve' } });
    expect(r.summary.inputs).toEqual([expect.objectContaining({ encoding, delimiter })]);
  });

  it('Windows-1252 without BOM, "|" delimiter, CR line endings: detected, and failed.csv comes out as UTF-8', async () => {
    const { sandbox: sb, put } = await sandboxFor(['CP-1']);
    const reportDir = tempDir('et-report-');
    const r = await importInto(sb.url, {
      inputs: [messy('windows-1252-pipe-cr.csv')],
      mapping: mappingFile('match: { column: Call ID }\nfields: { customer: Customer, note: Note }\n'),
      reportDir,
    });
    expect(put()).toEqual({ 'CP-1': { customer: 'Renée', note: '€ 5 refund' } });
    expect(r.summary.inputs).toEqual([expect.objectContaining({ encoding: 'windows-1252', delimiter: '|' })]);
    expect(readCsv(join(reportDir, 'failed.csv'))).toEqual([expect.objectContaining({ 'Call ID': 'CP-2', Customer: 'Ødegård', Note: 'über' })]);
    // and it can be set instead of detected
    const set = await importInto(sb.url, {
      inputs: [messy('windows-1252-pipe-cr.csv')],
      mapping: mappingFile('match: { column: Call ID }\ninput: { encoding: windows-1252, delimiter: "|" }\nfields: { customer: Customer }\n'),
    });
    expect(set.counts.unchanged + set.counts.updated).toBe(1);
  });

  it('quoting, multi-line cells, blank lines, trailing delimiters, wrong row lengths, leading zeros, unsafe keys', async () => {
    const { sandbox: sb, put } = await sandboxFor(['Q-1', 'Q-2', '000789', 'Q-5']);
    const reportDir = tempDir('et-report-');
    const mapping = mappingFile('match: { column: Call ID }\nfields:\n  customer: Customer\n  note: Note\n  score: { column: Score, type: integer, max: 5 }\n');
    const r = await importInto(sb.url, { inputs: [messy('quoted-multiline.csv')], mapping, reportDir });
    expect(put()).toEqual({
      'Q-1': { customer: 'Smith, John', note: 'said "hello"\nthen hung up', score: 5 },
      'Q-2': { customer: 'Doe', note: 'multi\nline\nnote', score: 4 },
      '000789': { customer: 'Zero', note: 'kept', score: 3 },
    });
    const rows = Object.fromEntries(readResults(reportDir).map((x) => [x.row, x]));
    // rows as a spreadsheet shows them (a record with line breaks in its cells is one row, a blank line one too), the physical line beside
    expect(Object.keys(rows).sort((a, b) => +a - +b)).toEqual(['2', '4', '6', '7', '8', '9', '10']);
    expect(Object.values(rows).map((x) => [x.row, x.line])).toEqual(
      expect.arrayContaining([
        ['4', '5'],
        ['6', '9'],
        ['10', '13'],
      ]),
    );
    expect(rows['6']).toMatchObject({
      status: 'invalid',
      error_code: 'E_ROW_SHAPE',
      error_message: `${messy('quoted-multiline.csv')} row 6: the row has 2 cells but the header has 4`,
    });
    expect(rows['7']).toMatchObject({
      status: 'invalid',
      error_code: 'E_ROW_SHAPE',
      error_message: expect.stringContaining('has 6 cells but the header has 4'),
    });
    expect(rows['9']).toMatchObject({
      status: 'invalid',
      error_message: expect.stringContaining('row 9, column "Score": expected a whole number of at most 5, got "9"'),
    });
    expect(rows['10']).toMatchObject({ status: 'invalid', error_code: 'E_INVALID_KEY', error_message: expect.stringContaining('contains "±"') });
    // a formula in a cell is written so that a spreadsheet shows it and does not run it
    const failed = readFileSync(join(reportDir, 'failed.csv'), 'utf8');
    expect(failed).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(r.counts).toMatchObject({ updated: 3, invalid: 4, total: 7 });
  });

  it('title lines above the header (input.headerRow)', async () => {
    const { sandbox: sb, put } = await sandboxFor(['T-1', 'T-2']);
    const r = await importInto(sb.url, {
      inputs: [messy('title-lines.csv')],
      mapping: mappingFile('match: { column: Call ID }\ninput: { headerRow: 3 }\nfields: { score: { column: Score, type: integer } }\n'),
    });
    expect(put()).toEqual({ 'T-1': { score: 4 }, 'T-2': { score: 2 } });
    expect(r.results.map((x) => x.row).sort()).toEqual(['4', '5']);
  });

  it.each(['messy-1900.xlsx', 'messy-1904.xlsx'])(
    '%s: hidden sheet, title row, dates and times, numeric and zero-padded IDs, formulas, rich text, hyperlinks, merged cells',
    async (file) => {
      const { sandbox: sb, put } = await sandboxFor(['37250987916', '00123', 'CALL-M3', 'CALL-M4']);
      const mapping = mappingFile(`
match: { column: Call ID }
input: { headerRow: 2 }
fields:
  call_date: { column: Call date, type: date }
  started: { column: Started, type: datetime, timezone: Europe/Berlin }
  score: { column: Score, type: integer }
  customer: Customer
  tags: { column: Tags, type: list }
  agent: Agent
`);
      const r = await importInto(sb.url, { inputs: [messy(file)], mapping });
      expect(put()).toEqual({
        '37250987916': { call_date: '2025-06-29', started: '2025-06-29T11:48:00Z', score: 4, customer: 'C-0042', tags: ['a', 'b'], agent: 'cdarwin' },
        '00123': { call_date: '2024-02-29', started: '2024-02-29T22:30:00Z', score: 5, customer: 'C-7', tags: ['vip'], agent: 'jdoe' },
        'CALL-M3': { call_date: '2025-01-01', started: '2024-12-31T23:00:00Z', score: 3, customer: 'C-9', tags: ['x', 'y'], agent: 'Merged agent' },
        'CALL-M4': { call_date: '2025-01-02', started: '2025-01-02T07:05:00Z', score: 2, customer: 'C-10' },
      });
      expect(r.summary.inputs).toEqual([expect.objectContaining({ format: 'xlsx', sheet: 'Calls', headerRow: 2 })]);
    },
  );

  it('picks a sheet by name or number, and names the sheets there are when it is missing', async () => {
    const { sandbox: sb, put } = await sandboxFor(['37250987916', '00123', 'CALL-M3', 'CALL-M4']);
    for (const sheet of ['Calls', '2', 'calls']) {
      const r = await importInto(sb.url, {
        inputs: [messy('messy-1900.xlsx')],
        mapping: mappingFile(`match: { column: Call ID }\ninput: { headerRow: 2, sheet: ${sheet} }\nfields: { score: { column: Score, type: integer } }\n`),
        dryRun: true,
      });
      expect(r.counts.would_update).toBe(4);
    }
    expect(put()).toEqual({});
    await expect(
      importInto(sb.url, {
        inputs: [messy('messy-1900.xlsx')],
        mapping: mappingFile('match: { column: Call ID }\ninput: { sheet: Export }\nfields: { score: Score }\n'),
      }),
    ).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringContaining('sheet "Export" not found; the workbook has: "Notes", "Calls"'),
    });
  });

  it('an XLSX saved by LibreOffice Calc', async () => {
    const { sandbox: sb, put } = await sandboxFor(['37250987916', 'LO-2', 'LO-3']);
    const mapping = mappingFile(
      'match: { column: Call ID }\nfields:\n  call_date: { column: Call date, type: date }\n  score: { column: Score, type: integer }\n  amount: { column: Amount, type: number }\n  resolved: { column: Resolved, type: boolean }\n',
    );
    await importInto(sb.url, { inputs: [messy('libreoffice.xlsx')], mapping });
    expect(put()).toEqual({
      '37250987916': { call_date: '2025-06-29', score: 4, amount: 12.5, resolved: true },
      'LO-2': { call_date: '2025-01-31', score: 5, amount: 7, resolved: false },
      'LO-3': { call_date: '2024-02-29', score: 3, amount: 0.25, resolved: true },
    });
  });

  it('an XLSX row error names the file, sheet, row, column and what was expected', async () => {
    const { sandbox: sb } = await sandboxFor(['37250987916']);
    const r = await importInto(sb.url, {
      inputs: [messy('messy-1900.xlsx')],
      mapping: mappingFile('match: { column: Call ID }\ninput: { headerRow: 2 }\nfields: { score: { column: Customer, type: integer } }\n'),
    });
    expect(r.results.find((x) => x.row === '3')!.error_message).toBe(
      `${messy('messy-1900.xlsx')}, sheet "Calls", row 3, column "Customer": expected a whole number, got "C-0042"`,
    );
  });
});

describe('duplicate keys in one file', () => {
  const input = () => {
    const path = join(tempDir(), 'dupes.csv');
    writeFileSync(path, 'Call ID,Score\nD-1,1\nD-2,2\nD-1,3\nD-1,4\n');
    return path;
  };
  it('are applied in file order by default, and reported', async () => {
    const { sandbox: sb } = await sandboxFor(['D-1', 'D-2']);
    const r = await importInto(sb.url, {
      inputs: [input()],
      mapping: mappingFile('match: { column: Call ID }\nfields: { score: { column: Score, type: integer } }\n'),
    });
    expect(r.counts).toMatchObject({ updated: 4 });
    expect(r.summary.duplicateKeys).toMatchObject({
      rows: 2,
      examples: [expect.objectContaining({ key: 'D-1', rows: [2, 4] }), expect.objectContaining({ key: 'D-1', rows: [4, 5] })],
    });
    expect(sb.store.get(bulkId(1))!.metadata.score).toBe(4);
    expect(r.captured.logs.join('')).toContain('2 rows repeat a key seen earlier in the same file');
  });
  it('only the last row of a key is applied with match.duplicates: last', async () => {
    const { sandbox: sb } = await sandboxFor(['D-1', 'D-2']);
    const r = await importInto(sb.url, {
      inputs: [input()],
      mapping: mappingFile('match: { column: Call ID, duplicates: last }\nfields: { score: { column: Score, type: integer } }\n'),
    });
    expect(r.counts).toMatchObject({ updated: 2, skipped: 2 });
    expect(r.results.find((x) => x.row === '2')!.error_message).toContain('superseded by row 5');
    expect(sb.store.get(bulkId(1))!.metadata.score).toBe(4);
    expect(sb.stats.putsPerSession[bulkId(1)]).toBe(1);
  });
});

describe('corrupt or empty input', () => {
  const mapping = () => mappingFile('match: { column: Call ID }\nfields: { score: { column: Score, type: integer } }\n');
  it.each([
    ['empty.csv', 'the file is empty (0 bytes)'],
    ['binary-junk.csv', 'holds binary data'],
    ['not-a-zip.xlsx', 'not an .xlsx workbook'],
    ['truncated.xlsx', 'not a readable .xlsx workbook'],
    ['old-excel.xls', 'old-style .xls workbooks are not supported'],
    ['password-protected.xlsx', 'password-protected .xlsx; remove the password'],
    ['calc.ods', 'OpenDocument .ods spreadsheets are not supported'],
    ['duplicate-header.csv', 'more than one column named "Score"'],
    ['unnamed-column.csv', 'has no name for column 2 (B)'],
  ])('%s: exit 3 with a clear message and no stack trace', async (file, message) => {
    const r = await runCli(['run', '-i', messy(file), '-m', mapping(), '--report-dir', tempDir()], envFor('http://127.0.0.1:9'));
    expect(r.code).toBe(3);
    expect(r.said).toContain(message);
    expect(r.said).toContain(`messy/${file}`);
    expect(r.said).not.toMatch(/\n\s+at /);
  });
  it('a header with no data rows is a quiet day: exit 0, a warning, counts all zero', async () => {
    sandbox = await startSandbox();
    const reportDir = tempDir('et-report-');
    const r = await runCli(['run', '-i', messy('header-only.csv'), '-m', mapping(), '--report-dir', reportDir], envFor(sandbox.url));
    expect(r.code).toBe(0);
    expect(r.said).toContain('has a header but no data rows');
    expect(JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')).counts.total).toBe(0);
  });
});
