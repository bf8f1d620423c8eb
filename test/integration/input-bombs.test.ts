import { createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { runCli } from '../helpers/cli.js';
import { readResults } from '../helpers/run.js';
import { envFor, putCount, startSandbox, tempDir } from '../helpers/sandbox.js';
import { buildZip, deflatedRepeat, type ZipEntry } from '../helpers/zip.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The parts of a one-sheet workbook, every text in the shared-strings table. */
function workbookParts(rows: string[][], sharedStrings?: ZipEntry['data']): ZipEntry[] {
  const strings = [...new Set(rows.flat())];
  const cell = (v: string, c: number, r: number) => `<c r="${String.fromCharCode(65 + c)}${r}" t="s"><v>${strings.indexOf(v)}</v></c>`;
  const sheet = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows.map((row, r) => `<row r="${r + 1}">${row.map((v, c) => cell(v, c, r + 1)).join('')}</row>`).join('')}</sheetData></worksheet>`;
  return [
    {
      name: '[Content_Types].xml',
      data: '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    },
    {
      name: '_rels/.rels',
      data: '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    },
    {
      name: 'xl/workbook.xml',
      data: '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Calls" sheetId="1" r:id="rId1"/></sheets></workbook>',
    },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    },
    {
      name: 'xl/sharedStrings.xml',
      data:
        sharedStrings ??
        `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${strings.length}" uniqueCount="${strings.length}">${strings.map((s) => `<si><t>${esc(s)}</t></si>`).join('')}</sst>`,
    },
    { name: 'xl/worksheets/sheet1.xml', data: sheet },
  ];
}

/** Runs the CLI with its peak RSS recorded at exit. */
async function runMeasured(args: string[], env: NodeJS.ProcessEnv) {
  const dir = tempDir();
  const preload = join(dir, 'rss.mjs');
  const out = join(dir, 'rss.json');
  writeFileSync(
    preload,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  const r = await runCli(args, { ...env, NODE_OPTIONS: `--import ${preload}` });
  return { ...r, rssMb: Number(readFileSync(out, 'utf8')) / 1024 };
}

describe('input bombs', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());
  const mapping = (dir: string) => {
    const m = join(dir, 'm.yaml');
    writeFileSync(m, 'match: { column: Call ID }\nfields: { customer_id: Customer, note: Note }\n');
    return m;
  };

  it('a built workbook of the same shape imports: the control for the bomb below', async () => {
    const dir = tempDir();
    const file = join(dir, 'ok.xlsx');
    writeFileSync(
      file,
      buildZip(
        workbookParts([
          ['Call ID', 'Customer', 'Note'],
          ['CALL-1004', 'C-1', 'fine'],
        ]),
      ),
    );
    const r = await runCli(['run', '-i', file, '-m', mapping(dir), '--report-dir', tempDir(), '--dry-run'], envFor(sandbox.url));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would_update\s+1/);
  });

  it('a 300-million-character shared string in a small workbook is refused before it is read: exit 3, naming the file and the entry', async () => {
    const dir = tempDir();
    const file = join(dir, 'bomb.xlsx');
    const head =
      '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4"><si><t>Call ID</t></si><si><t>Customer</t></si><si><t>Note</t></si><si><t>';
    const bomb = await deflatedRepeat(head, 'a', 300_000_000, '</t></si></sst>');
    const parts = workbookParts(
      [
        ['Call ID', 'Customer', 'Note'],
        ['Call ID', 'Customer', 'Note'],
      ],
      bomb,
    );
    writeFileSync(file, buildZip(parts));
    expect(statSync(file).size).toBeLessThan(400 * 1024);
    const before = putCount(sandbox);
    const r = await runMeasured(['run', '-i', file, '-m', mapping(dir), '--report-dir', tempDir()], envFor(sandbox.url));
    expect(r.code).toBe(3);
    expect(r.said).toContain(file);
    expect(r.said).toMatch(/entry "xl\/sharedStrings\.xml" inflates more than 100:1/);
    expect(r.rssMb).toBeLessThanOrEqual(512);
    expect(putCount(sandbox)).toBe(before);
  }, 60_000);

  it('the same bomb in an entry the zip directory does not list is refused too: exceljs reads the file in order', async () => {
    const dir = tempDir();
    const file = join(dir, 'hidden.xlsx');
    const head =
      '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4"><si><t>Call ID</t></si><si><t>Customer</t></si><si><t>Note</t></si><si><t>';
    const bomb = await deflatedRepeat(head, 'a', 300_000_000, '</t></si></sst>');
    const parts = workbookParts([
      ['Call ID', 'Customer', 'Note'],
      ['CALL-1004', 'C-1', 'fine'],
    ]);
    writeFileSync(file, buildZip([{ name: 'xl/sharedStrings.xml', data: bomb, hidden: true }, ...parts]));
    const r = await runMeasured(['validate', '-i', file, '-m', mapping(dir), '--report-dir', tempDir()], {});
    expect(r.code).toBe(3);
    expect(r.said).toContain(file);
    expect(r.said).toMatch(/refused: its bytes at offset 0 are no entry its directory lists/);
    expect(r.rssMb).toBeLessThanOrEqual(256);
  }, 60_000);

  it('a shared-strings table over input.maxSharedStringsMb is refused with the setting named', async () => {
    const dir = tempDir();
    const file = join(dir, 'big.xlsx');
    // varied text compresses far less than 100:1, so only the size cap can stop it
    const rows = [['Call ID', 'Customer', 'Note'], ...Array.from({ length: 3000 }, (_, i) => [`K-${i}`, `C-${i}`, `${Math.random().toString(36).repeat(20)}`])];
    writeFileSync(file, buildZip(workbookParts(rows)));
    const m = join(dir, 'm.yaml');
    writeFileSync(m, 'match: { column: Call ID }\ninput: { maxSharedStringsMb: 0.5 }\nfields: { customer_id: Customer, note: Note }\n');
    const r = await runCli(['validate', '-i', file, '-m', m, '--report-dir', tempDir()], {});
    expect(r.code).toBe(3);
    expect(r.said).toMatch(/inflates to more than 512 KB \(input\.maxSharedStringsMb 0\.5\)/);
  });

  it('a CSV with a 50 MB cell: that row is invalid with its size, the others go on, nothing too large is sent', async () => {
    const dir = tempDir();
    const file = join(dir, 'big-cell.csv');
    const out = createWriteStream(file);
    out.write('Call ID,Customer,Note\nCALL-1004,C-1,fine\nCALL-1003,C-2,"');
    const chunk = 'x"",y'.repeat(200_000); // quotes and delimiters inside the quoted cell
    for (let i = 0; i < 50; i++) if (!out.write(chunk)) await once(out, 'drain');
    out.write('"\nCALL-1002,C-3,after\n');
    out.end();
    await once(out, 'finish');
    const reportDir = tempDir();
    const r = await runMeasured(['run', '-i', file, '-m', mapping(dir), '--report-dir', reportDir], envFor(sandbox.url));
    expect(r.code).toBe(1);
    const rows = Object.fromEntries(readResults(reportDir).map((x) => [x.row, x]));
    expect(rows['3']).toMatchObject({
      status: 'invalid',
      error_code: 'E_CELL_TOO_LARGE',
      error_message: expect.stringMatching(
        new RegExp(
          `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} row 3: the row has a cell of 50000000 bytes in column "Note", more than input.maxCellBytes \\(1048576\\)`,
        ),
      ),
    });
    expect(rows['2']!.status).not.toBe('invalid');
    expect(rows['4']!.status).not.toBe('invalid');
    expect(r.rssMb).toBeLessThanOrEqual(512);
    const puts = sandbox.requests().filter((q) => q.method === 'PUT');
    expect(puts.every((q) => JSON.stringify(q.body ?? '').length < 1024 * 1024)).toBe(true);
  }, 60_000);

  it('an oversized cell right after a quoted one, where a read ends (64 KiB), is still cut and its row invalid', async () => {
    const dir = tempDir();
    const file = join(dir, 'aligned.csv');
    const start = 'Call ID,Customer,Note\nCALL-1004,"';
    // the quoted cell closes, and its delimiter is the last byte of the first 64 KiB read
    const quoted = `${start}${'q'.repeat(65_536 - start.length - 2)}",`;
    expect(Buffer.byteLength(quoted)).toBe(65_536);
    writeFileSync(file, `${quoted}${'x'.repeat(3_000_000)}\nCALL-1003,C-2,after\n`);
    const reportDir = tempDir();
    const r = await runCli(['validate', '-i', file, '-m', mapping(dir), '--report-dir', reportDir]);
    expect(r.code).toBe(1);
    const rows = readResults(reportDir);
    expect(rows.map((x) => [x.row, x.status, x.error_code])).toEqual([
      ['2', 'invalid', 'E_CELL_TOO_LARGE'],
      ['3', 'valid', ''],
    ]);
    // cut by the guard as it was read (never held whole), not found too large afterwards
    expect(rows[0]!.error_message).toContain('has a cell of 3000000 bytes in column "Note", more than input.maxCellBytes (1048576); the cell was not read');
  });

  it('a row of ten million delimiters is invalid with its number of cells, never held whole; the next row goes on', async () => {
    const dir = tempDir();
    const file = join(dir, 'wide.csv');
    writeFileSync(file, `Call ID,Customer,Note\nCALL-1004,C-1,${','.repeat(10_000_000)}\nCALL-1003,C-2,after\n`);
    const reportDir = tempDir();
    const r = await runMeasured(['validate', '-i', file, '-m', mapping(dir), '--report-dir', reportDir], {});
    expect(r.code).toBe(1);
    const rows = readResults(reportDir);
    expect(rows.map((x) => [x.row, x.status, x.error_code])).toEqual([
      ['2', 'invalid', 'E_ROW_SHAPE'],
      ['3', 'valid', ''],
    ]);
    expect(rows[0]!.error_message).toContain('the row has 10000003 cells, more than 100000 (the header has 3); the rest of the row was not read');
    expect(r.rssMb).toBeLessThanOrEqual(256);
  });

  it('a value whose PUT body would pass --max-body-kb is invalid before sending', async () => {
    const dir = tempDir();
    const file = join(dir, 'wide.csv');
    writeFileSync(file, `Call ID,Customer,Note\nCALL-1004,C-1,${'n'.repeat(600 * 1024)}\n`);
    const before = putCount(sandbox);
    const reportDir = tempDir();
    const r = await runCli(['run', '-i', file, '-m', mapping(dir), '--report-dir', reportDir], envFor(sandbox.url));
    expect(r.code).toBe(1);
    expect(readResults(reportDir)[0]).toMatchObject({
      status: 'invalid',
      error_code: 'E_TOO_LARGE',
      error_message: expect.stringContaining('more than --max-body-kb 512; not sent'),
    });
    expect(putCount(sandbox)).toBe(before);
  });
});
