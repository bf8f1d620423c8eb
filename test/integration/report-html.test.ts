import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { HAVE_BROWSER, launchBrowser } from '../helpers/browser.js';
import { bulkKey, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { envFor, startSandbox, tempDir } from '../helpers/sandbox.js';

/** 200 rows: 46 CSAT `N/A` (not a null marker here), 30 CSAT 9, 24 empty keys, 100 good ones writing csi and a campaign. */
function export200(): { input: string; mapping: string } {
  const dir = tempDir();
  const lines = ['Call ID,CSAT,Campaign'];
  for (let i = 0; i < 200; i++) {
    const csat = i < 46 ? 'N/A' : i < 76 ? '9' : String(1 + (i % 5));
    lines.push(`${i >= 76 && i < 100 ? '' : bulkKey(i)},${csat},${i % 2 === 0 ? 'Spring' : 'Winter'}`);
  }
  writeFileSync(join(dir, 'in.csv'), `${lines.join('\n')}\n`);
  writeFileSync(
    join(dir, 'm.yaml'),
    'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer, min: 1, max: 5 }\n  campaign_name: Campaign\n',
  );
  return { input: join(dir, 'in.csv'), mapping: join(dir, 'm.yaml') };
}

describe.skipIf(!HAVE_BROWSER)('report.html, read in Chromium', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ sessions: bulkSessions(200) });
  });
  afterAll(() => sandbox.close());

  it('groups 100 bad rows by column and value, sums up the changes per field, says what to do next; at 1400 and 800 px nothing overflows', async () => {
    const { input, mapping } = export200();
    const reportDir = tempDir('et-report-');
    const r = await runCli(['run', '-i', input, '-m', mapping, '--report-dir', reportDir], envFor(sandbox.url));
    expect(r.code).toBe(1);
    const browser = await launchBrowser();
    try {
      for (const width of [1400, 800]) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        await page.goto(`file://${join(reportDir, 'report.html')}`);
        const values = await page.locator('ul.values li').allTextContents();
        expect(values).toContain('CSAT: N/A × 46 (expected a whole number from 1 to 5)');
        expect(values).toContain('CSAT: 9 × 30 (expected a whole number from 1 to 5)');
        expect(values).toContain('Call ID: empty × 24 (expected a key)');
        const fields = await page
          .locator('#fields tr[data-field]')
          .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
        expect(fields.map((f) => [f[0], f[1]])).toEqual(
          expect.arrayContaining([
            ['csi', '100'],
            ['campaign_name', '100'],
          ]),
        );
        expect(fields.find((f) => f[0] === 'campaign_name')![2]).toMatch(/\(absent\) → "(Spring|Winter)" × 50/);
        const next = await page.locator('#next code').allTextContents();
        expect(next).toEqual([`et-import run -i ${join(reportDir, 'failed.csv')} -m ${mapping}`, `et-import undo ${reportDir}`]);
        // the page fits the window: no horizontal scroll, and session ids are never broken
        expect(
          await page.evaluate(() => {
            const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
            return g.document.documentElement.scrollWidth <= g.innerWidth;
          }),
        ).toBe(true);
        const ids = await page.locator('td.id').evaluateAll((cells) => cells.map((c) => c.getClientRects().length));
        expect(ids.every((n) => n === 1)).toBe(true);
        await page.screenshot({ path: join(process.env.ET_SHOT_DIR ?? reportDir, `report-${width}.png`), fullPage: true });
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });

  it('a validation report has no changes section', async () => {
    const { input, mapping } = export200();
    const reportDir = tempDir('et-report-');
    await runCli(['validate', '-i', input, '-m', mapping, '--report-dir', reportDir], {});
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${join(reportDir, 'report.html')}`);
      const headings = await page.locator('h2').allTextContents();
      expect(headings).not.toContain('Changes');
      expect(headings).toContain('Problems');
      expect(await page.locator('#next code').allTextContents()).toEqual([`et-import validate -i ${join(reportDir, 'failed.csv')} -m ${mapping}`]);
    } finally {
      await browser.close();
    }
  });
});
