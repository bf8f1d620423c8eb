import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkKey, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto } from '../helpers/run.js';
import { metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

const MAPPING = 'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer, min: 1, max: 5 }\n  campaign: { column: Campaign }\n';

describe('JSON Lines input end to end', () => {
  it('validates, imports, and its failed rows come back as failed.csv that imports as CSV', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(4) });
    try {
      const dir = tempDir();
      writeFileSync(join(dir, 'm.yaml'), MAPPING);
      const lines = [
        { 'Call ID': bulkKey(0), CSAT: 5, Campaign: 'Spring' },
        { 'Call ID': bulkKey(1), CSAT: 9, Campaign: 'Spring' },
        { 'Call ID': bulkKey(2), CSAT: 4, Campaign: { name: 'nested' } },
        { 'Call ID': bulkKey(3), CSAT: '3', Campaign: null },
      ];
      const input = join(dir, 'export.jsonl');
      writeFileSync(input, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
      const v = await runCli(['validate', '-i', input, '-m', join(dir, 'm.yaml'), '--report-dir', tempDir('et-report-')]);
      expect(v.code).toBe(1);
      const r = await importInto(sandbox.url, { inputs: [input], mapping: join(dir, 'm.yaml') });
      expect(r.counts).toMatchObject({ updated: 2, invalid: 2 });
      expect(r.results.filter((x) => x.status === 'invalid').map((x) => [x.row, x.error_code])).toEqual([
        ['2', 'E_INVALID_VALUE'],
        ['3', 'E_ROW_SHAPE'],
      ]);
      expect(r.results.find((x) => x.row === '3')!.error_message).toMatch(/line 3\) holds a nested object under "Campaign"/);
      const meta = metadataById(sandbox);
      expect(
        Object.values(meta)
          .map((m) => m.csi)
          .filter((x) => x !== undefined),
      ).toEqual([5, 3]);
      // failed.csv holds the rows in the input's columns: fixed, it imports as CSV
      const failed = readFileSync(join(r.reportDir, 'failed.csv'), 'utf8');
      const fixed = join(dir, 'fixed.csv');
      writeFileSync(fixed, failed.replace(`${bulkKey(1)},9,`, `${bulkKey(1)},2,`).replace(/"\{""name"":""nested""\}"/, 'Summer'));
      const again = await importInto(sandbox.url, { inputs: [fixed], mapping: join(dir, 'm.yaml') });
      expect(again.counts).toMatchObject({ updated: 2 });
      expect(Object.values(metadataById(sandbox)).map((m) => m.csi)).toEqual([5, 2, 4, 3]);
    } finally {
      await sandbox.close();
    }
  });
});
