import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { runCli } from '../helpers/cli.js';
import { readResults } from '../helpers/run.js';
import { configFile, envFor, fixture, startSandbox, tempDir } from '../helpers/sandbox.js';

const messy = (f: string) => fixture(join('messy', f));

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());

describe('validate', () => {
  it('agrees row for row with run --dry-run, and sends nothing', async () => {
    const mapping = join(tempDir(), 'm.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(mapping, 'match: { column: Call ID }\nfields:\n  customer: Customer\n  note: Note\n  score: { column: Score, type: integer, max: 5 }\n');
    for (const [input, map] of [
      [messy('quoted-multiline.csv'), mapping],
      [fixture('crm-export.csv'), configFile('mapping.example.yaml')],
      [fixture('crm-export.xlsx'), configFile('mapping.example.yaml')],
    ] as const) {
      const vDir = tempDir('et-report-');
      const dDir = tempDir('et-report-');
      const before = sandbox.requests().length;
      const v = await runCli(['validate', '-i', input, '-m', map, '--report-dir', vDir], {});
      expect(sandbox.requests().length).toBe(before);
      const d = await runCli(['run', '--dry-run', '-i', input, '-m', map, '--report-dir', dDir], envFor(sandbox.url));
      const byRow = (rows: ReturnType<typeof readResults>) => Object.fromEntries(rows.map((r) => [r.row, r]));
      const vr = byRow(readResults(vDir));
      const dr = byRow(readResults(dDir));
      expect(Object.keys(vr).sort()).toEqual(Object.keys(dr).sort());
      for (const row of Object.keys(vr)) {
        if (vr[row]!.status === 'invalid')
          expect(dr[row]).toMatchObject({ status: 'invalid', error_code: vr[row]!.error_code, error_message: vr[row]!.error_message });
        else expect(dr[row]!.status).not.toBe('invalid');
      }
      const invalid = Object.values(vr).filter((r) => r.status === 'invalid').length;
      expect(v.code).toBe(invalid > 0 ? 1 : 0);
      const allWell = Object.values(dr).every((r) => ['would_update', 'unchanged', 'skipped'].includes(r.status));
      expect(d.code).toBe(allWell ? 0 : 1);
      expect(readFileSync(join(vDir, 'summary.json'), 'utf8')).toContain('"mode": "validate"');
    }
  });
});

describe('inspect', () => {
  it.each([
    ['de-utf8-bom-semicolon.csv', ['encoding:    utf-8 (BOM)', 'delimiter:   ";"'], 0],
    ['excel-unicode-text-utf16le.txt', ['encoding:    utf-16le (BOM)', 'delimiter:   "\\t"'], 0],
    ['utf16be.csv', ['encoding:    utf-16be (BOM)'], 0],
    ['windows-1252-pipe-cr.csv', ['encoding:    windows-1252', 'delimiter:   "|"'], 0],
    ['quoted-multiline.csv', ['encoding:    utf-8', 'delimiter:   ","'], 1],
    ['messy-1900.xlsx', ['sheet:       Calls', 'sheets:      Notes (hidden), Calls'], 0],
    ['messy-1904.xlsx', ['sheet:       Calls'], 0],
    ['libreoffice.xlsx', ['sheet:       libreoffice', 'Call date  date'], 0],
  ])('%s: tells format, encoding, delimiter or sheet; its starter mapping passes validate', async (file, expected, validateExit) => {
    const mapping = join(tempDir(), 'starter.yaml');
    const args = ['inspect', messy(file), '--write-mapping', mapping];
    // the workbooks have a title row above the header
    if (file.startsWith('messy-')) args.push('--header-row', '2');
    const r = await runCli(args);
    expect(r.code, r.said).toBe(0);
    for (const e of expected) expect(r.stdout).toContain(e);
    expect(readFileSync(mapping, 'utf8')).toMatch(/^# Starter mapping/);
    const reportDir = tempDir('et-report-');
    const v = await runCli(['validate', '-i', messy(file), '-m', mapping, '--report-dir', reportDir]);
    expect(v.code, v.said).toBe(validateExit);
    // where validate finds problems, they are the file's own (row shape, unsafe key), never a guessed type
    for (const row of readResults(reportDir))
      expect(row.error_code === '' || row.error_code === 'E_ROW_SHAPE' || row.error_code === 'E_INVALID_KEY').toBe(true);
  });
});

describe('inspect and match.keys', () => {
  it('proposes the call ID, then the recording file, as keys tried in order; the starter mapping passes validate', async () => {
    const dir = tempDir();
    const file = join(dir, 'two-keys.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'Call ID,Recording File,CSAT\nC-1,C:\\rec\\a.wav,3\n,b.wav,4\n');
    const mapping = join(dir, 'starter.yaml');
    const r = await runCli(['inspect', file, '--write-mapping', mapping], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Call ID .*<- key 1 \(external_id\)/);
    expect(r.stdout).toMatch(/Recording File .*<- key 2 \(audio_filename\)/);
    const v = await runCli(['validate', '-i', file, '-m', mapping, '--report-dir', tempDir('et-report-')], {});
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/valid\s+2/);
  });
});
