import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { runCli } from '../helpers/cli.js';
import { importInto, readCsv } from '../helpers/run.js';
import { envFor, putCount, startSandbox, tempDir } from '../helpers/sandbox.js';

const CALL_1002 = '9a3d2b8e-6c1f-4f5a-8e2d-3b4c5d6e7f80';

function files(csv: string, mapping: string) {
  const dir = mkdtempSync(join(tempDir(), 'fm-'));
  writeFileSync(join(dir, 'in.csv'), csv);
  writeFileSync(join(dir, 'm.yaml'), mapping);
  return { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml') };
}

/** A CRM export as they come: CSAT with N/A and 4.0, FCR as Yes/No/Y/N, statuses with ;, columns no session holds. */
function realisticExport(rows: number): string {
  const ids = ['CALL-1001', 'CALL-1002', 'CALL-1003', 'CALL-1004', 'CALL-2001', 'CALL-2003'];
  const lines = ['Call ID,Recording File,Call Date,Agent,CSAT,NPS,FCR,Customer ID,CRM Status,Campaign,Comment'];
  for (let i = 0; i < rows; i++) {
    const csat = i % 60 === 0 ? 'N/A' : i % 97 === 0 ? '4.0' : String(1 + (i % 5));
    const status = ['Resolved', 'Callback scheduled;Resolved', 'Opened'][i % 3];
    lines.push(
      `${ids[i % 6]},rec_${i}.mp3,27/06/2025 20:${String(i % 60).padStart(2, '0')},agent${i % 7},${csat},${i % 11},${['Yes', 'No', 'Y', 'N'][i % 4]},C-${i},${status},Spring,comment ${i}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('the first mile', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('find on a key that is a prefix of another: both candidates, and which one holds it exactly', async () => {
    const r = await runCli(['find', 'CALL-1001', '-m', 'config/mapping.example.yaml'], envFor(sandbox.url));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 sessions found');
    expect(r.stdout).toMatch(/session 0b7f3c1e[^\n]*\n {2}only loosely \(external_id\): not a match/);
    expect(r.stdout).toMatch(/session 5ef1ce61[^\n]*\n {2}holds it exactly in: external_id/);
    expect(r.stdout).toContain("the mapping's key Call ID selects it");
    expect(r.stdout).toContain('one session holds it exactly');
  });

  it('check: logs in, reads a page, names the fields and metadata keys the sessions hold', async () => {
    const r = await runCli(['check'], envFor(sandbox.url));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/login ok in \d+ ms/);
    expect(r.stdout).toMatch(/sessions visible: 12/);
    expect(r.stdout).toMatch(/crm_statuses\s+\d+/);
    const refused = await runCli(['check'], { ...envFor(sandbox.url), ET_AUTH_SECRET: 'wrong' });
    expect(refused.code).toBe(3);
  });

  it('inspect, connected: the mapping it writes makes a dry run that changes only the six keys the sessions hold, typed as they hold them', async () => {
    const dir = mkdtempSync(join(tempDir(), 'fm-'));
    const input = join(dir, 'export.csv');
    writeFileSync(input, realisticExport(3000));
    const mapping = join(dir, 'starter.yaml');
    const r = await runCli(['inspect', input, '--write-mapping', mapping], envFor(sandbox.url));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/proposal: from the metadata keys 12 sampled sessions hold: .*csi \(integer/);
    expect(r.stdout).toMatch(/CSAT: `N\/A` ×50 read as no value/);
    const text = readFileSync(mapping, 'utf8');
    expect(text).toMatch(/# comment: \{ column: Comment \}\s+# not held by any sampled session/);
    const reportDir = tempDir('et-report-');
    const dry = await runCli(['run', '-i', input, '-m', mapping, '--dry-run', '--report-dir', reportDir, '--log-level', 'error'], envFor(sandbox.url));
    expect(dry.code).toBe(0);
    const changes = readCsv(join(reportDir, 'changes.csv'));
    expect(new Set(changes.map((c) => c.field))).toEqual(new Set(['csi', 'nps', 'fcr', 'customer_id', 'crm_statuses', 'campaign_name']));
    for (const c of changes) {
      const after = JSON.parse(c.after!) as unknown;
      if (c.field === 'csi' || c.field === 'nps') expect(Number.isInteger(after)).toBe(true);
      if (c.field === 'fcr') expect([0, 1]).toContain(after);
      if (c.field === 'crm_statuses') expect(Array.isArray(after)).toBe(true);
    }
    expect(readFileSync(join(reportDir, 'changes.csv'), 'utf8')).not.toContain('N/A');
  });

  it('inspect, offline: the help article keys, and it says so', async () => {
    const dir = mkdtempSync(join(tempDir(), 'fm-'));
    const input = join(dir, 'export.csv');
    writeFileSync(input, realisticExport(50));
    const r = await runCli(['inspect', input], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("proposal: OFFLINE (no connection configured (ET_URL)): the help article's keys");
    expect(r.stdout).toContain('csi: { column: CSAT, type: integer, min: 1, max: 5 }');
    expect(r.stdout).toMatch(/fcr: \{ column: FCR, type: integer, values: \{ Yes: 1, Y: 1, No: 0, N: 0 \} \}/);
    const unreachable = await runCli(['inspect', input], envFor('http://127.0.0.1:9'));
    expect(unreachable.stdout).toMatch(/proposal: OFFLINE \(the instance could not be read: .*127\.0\.0\.1:9/);
  });

  it('inspect of a workbook whose first sheet is a summary and whose data sits under two title lines: the data sheet and its header', async () => {
    const { default: ExcelJS } = await import('exceljs');
    const wb = new ExcelJS.Workbook();
    const summary = wb.addWorksheet('Summary');
    summary.addRow(['Total calls', 3]);
    summary.addRow(['Average CSAT', 4.2]);
    const data = wb.addWorksheet('Export');
    data.addRow(['CRM export, June 2025']);
    data.addRow(['generated 2025-07-01']);
    data.addRow(['Call ID', 'CSAT', 'Customer ID']);
    data.addRow(['CALL-1002', 5, 'C-1']);
    data.addRow(['CALL-2003', 4, 'C-2']);
    const file = join(mkdtempSync(join(tempDir(), 'fm-')), 'book.xlsx');
    await wb.xlsx.writeFile(file);
    const mapping = join(tempDir(), 'book.yaml');
    const r = await runCli(['inspect', file, '--write-mapping', mapping], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sheet "Export" (the first with a header and data rows; 2 in the workbook), header at row 3 (the rows above it are titles)');
    expect(readFileSync(mapping, 'utf8')).toMatch(/sheet: Export\n {2}headerRow: 3/);
    expect(readFileSync(mapping, 'utf8')).toContain('csi: { column: CSAT, type: integer, min: 1, max: 5 }');
    const v = await runCli(['validate', '-i', file, '-m', mapping, '--report-dir', tempDir('et-report-')], {});
    expect([v.code, v.stdout]).toEqual([0, expect.stringMatching(/valid\s+2/)]);
  });

  it('nullValues: a row with CSAT "N/A" updates its other fields', async () => {
    const f = files(
      'Call ID,CSAT,Customer ID\nCALL-1002,N/A,C-NEW\n',
      'nullValues: ["N/A"]\nmatch: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer }\n  customer_id: Customer ID\n',
    );
    const r = await importInto(sandbox.url, f);
    expect(r.results[0]).toMatchObject({ status: 'updated', changed_fields: 'customer_id' });
    expect(sandbox.store.get(CALL_1002)!.metadata).toMatchObject({ csi: 4, customer_id: 'C-NEW' });
  });

  it('a string where the session holds a list: invalid (E_SHAPE_CHANGE), nothing sent; allowShapeChange lets it through', async () => {
    const before = putCount(sandbox);
    const f = files('Call ID,Status\nCALL-1002,Resolved\n', 'match: { column: Call ID }\nfields:\n  crm_statuses: { column: Status }\n');
    const r = await importInto(sandbox.url, { ...f, dryRun: true });
    expect(r.results[0]).toMatchObject({ status: 'invalid', error_code: 'E_SHAPE_CHANGE' });
    expect(r.results[0]!.error_message).toContain('field crm_statuses: the session holds a list (["Closed"]), the row would write a string ("Resolved")');
    const real = await importInto(sandbox.url, f);
    expect(real.results[0]!.status).toBe('invalid');
    expect(putCount(sandbox)).toBe(before);
    const allowed = files(
      'Call ID,Status\nCALL-1002,Resolved\n',
      'match: { column: Call ID }\nfields:\n  crm_statuses: { column: Status, allowShapeChange: true }\n',
    );
    expect((await importInto(sandbox.url, { ...allowed, dryRun: true })).results[0]!.status).toBe('would_update');
  });

  it('a CSV with a line break inside a cell: every later row has the number a spreadsheet shows, and results.csv its physical line', async () => {
    const f = files('Call ID,Note\nCALL-1002,"two\nlines"\nCALL-2003,x\nNOPE,y\n', 'match: { column: Call ID }\nfields:\n  note: Note\n');
    const r = await importInto(sandbox.url, { ...f, dryRun: true });
    const by = Object.fromEntries(r.results.map((x) => [x.key, [x.row, x.line]]));
    expect(by).toEqual({ 'CALL-1002': ['2', '2'], 'CALL-2003': ['3', '4'], NOPE: ['4', '5'] });
    expect(r.results.find((x) => x.key === 'NOPE')!.error_message).toContain('row 4');
  });

  it('with match.keys, the key column of results.csv is the key that found the session', async () => {
    const f = files(
      'Call ID,Recording File,Note\nNOT-THERE,20250703_1130_jdoe_37250001111_OUT_1.mp3,x\n',
      'match:\n  keys: [{ column: Call ID }, { column: Recording File, by: audio_filename, sessionFields: [file_name] }]\nfields:\n  note: Note\n',
    );
    const r = await importInto(sandbox.url, { ...f, dryRun: true });
    expect(r.results[0]).toMatchObject({ status: 'would_update', matched_by: 'Recording File', key: '20250703_1130_jdoe_37250001111_OUT_1.mp3' });
  });
});
