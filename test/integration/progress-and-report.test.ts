import { inflateSync } from 'node:zlib';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { HAVE_BROWSER, launchBrowser } from '../helpers/browser.js';
import { CLI, runCli } from '../helpers/cli.js';
import { readResults } from '../helpers/run.js';
import { PASSWORD, ROOT, USER, configFile, envFor, fixture, startSandbox, tempDir } from '../helpers/sandbox.js';
import { keepOutput } from '../helpers/secrets.js';

const summaryOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { counts: Record<string, number>; exitCode: number; requests: Record<string, number> };

/** 60 rows over the fixture sessions: at 60 ms a request and concurrency 2, a few seconds of run. */
function slowExport(): { input: string; mapping: string } {
  const dir = tempDir();
  const lines = ['Call ID,Customer ID', ...Array.from({ length: 60 }, (_, i) => `CALL-100${1 + (i % 4)},C-${i}`)];
  writeFileSync(join(dir, 'in.csv'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'm.yaml'), 'match: { column: Call ID }\nfields: { customer_id: Customer ID }\n');
  return { input: join(dir, 'in.csv'), mapping: join(dir, 'm.yaml') };
}

describe('a run people can watch', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ latencyMs: 60 });
  });
  afterAll(() => sandbox.close());

  it('on a terminal (a real pseudo-terminal, through script): a bar with percentage and ETA, readable log lines, no raw JSON', async () => {
    const { input, mapping } = slowExport();
    const reportDir = tempDir('et-report-');
    const command = [process.execPath, CLI, 'run', '-i', input, '-m', mapping, '--concurrency', '2', '--progress-every', '1', '--report-dir', reportDir]
      .map((a) => `'${a}'`)
      .join(' ');
    const typescript = join(tempDir(), 'typescript');
    // asynchronously: the sandbox answers from this process
    await new Promise<void>((resolve) => {
      execFile(
        'script',
        ['-qfec', command, typescript],
        {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', ET_URL: sandbox.url, ET_AUTH_KEY: USER, ET_AUTH_SECRET: PASSWORD },
          timeout: 60_000,
        },
        () => resolve(),
      );
    });
    const screen = readFileSync(typescript, 'utf8');
    keepOutput('tty', screen);
    const lines = screen.split(/\r?\n|\r/);
    expect(screen).toMatch(/\d+% \| \d+\/60 rows \| [\d.]+ rows\/s \| ETA \d+s/);
    expect(lines.filter((l) => l.includes('{"level"'))).toEqual([]);
    expect(screen).toMatch(/\d\d:\d\d:\d\d INFO {2}import started {2}mode=run/);
    // the end: the table, the report directory and report.html last
    const tail = lines.filter((l) => l.trim() !== '' && !l.startsWith('Script ')).slice(-2);
    expect(tail[0]).toContain(`report: ${reportDir}`);
    expect(tail[1]).toContain(join(reportDir, 'report.html'));
  });

  it('off a terminal: stderr is JSON lines only (ISO times, the run id), progress lines with rows, total, percent, rows/s and ETA, and a last line that says where the report is', async () => {
    const { input, mapping } = slowExport();
    const reportDir = tempDir('et-report-');
    const r = await runCli(['run', '-i', input, '-m', mapping, '--concurrency', '2', '--progress-every', '1', '--report-dir', reportDir], envFor(sandbox.url));
    const lines = r.stderr
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of lines) {
      expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(l.run).toMatch(/\S/);
    }
    expect(lines.at(-1)).toMatchObject({
      msg: 'import finished',
      exitCode: r.code,
      reportDir,
      durationMs: expect.any(Number),
      counts: { total: 60 },
      requests: { total: expect.any(Number), retries: 0 },
    });
    expect(r.stdout).toContain(`report: ${reportDir}`);
    const progress = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(p).toMatchObject({
        rows: expect.any(Number),
        total: 60,
        percent: expect.any(Number),
        rowsPerSec: { interval: expect.any(Number), overall: expect.any(Number) },
        counts: expect.any(Object),
      });
      expect(p.etaSeconds === null || typeof p.etaSeconds === 'number').toBe(true);
    }
  });
});

describe('a run people can review', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it("a dry run: changes.csv covers exactly the would_update rows, each CSAT change equals the file's CSAT", async () => {
    const reportDir = tempDir('et-report-');
    const r = await runCli(
      ['run', '--dry-run', '-i', fixture('crm-export.csv'), '-m', configFile('mapping.example.yaml'), '--report-dir', reportDir],
      envFor(sandbox.url),
    );
    expect(r.code).toBe(1);
    const changes = parse(readFileSync(join(reportDir, 'changes.csv')), { columns: true }) as Record<string, string>[];
    const wouldUpdate = readResults(reportDir).filter((x) => x.status === 'would_update');
    expect(new Set(changes.map((c) => c.row))).toEqual(new Set(wouldUpdate.map((x) => x.row)));
    for (const x of wouldUpdate)
      expect(
        changes
          .filter((c) => c.row === x.row)
          .map((c) => c.field)
          .sort(),
      ).toEqual(x.changed_fields.split(';').sort());
    const file = parse(readFileSync(fixture('crm-export.csv')), { columns: true, info: true }) as { record: Record<string, string>; info: { lines: number } }[];
    const csatByRow = new Map(file.map((f) => [String(f.info.lines), f.record.CSAT]));
    const csi = changes.filter((c) => c.field === 'csi');
    expect(csi.length).toBeGreaterThan(0);
    for (const c of csi) expect(c.after).toBe(String(Number(csatByRow.get(c.row!))));
    const list = changes.find((c) => c.field === 'crm_statuses' && c.before !== '')!;
    expect(JSON.parse(list.before!)).toEqual(expect.any(Array));
  });

  it.skipIf(!HAVE_BROWSER)(
    'report.html opens in a real browser with no network and no console error, shows the counts of summary.json, and runs nothing from the data',
    async () => {
      // hostile text in a key, a value and the API's answers
      const dir = tempDir();
      writeFileSync(
        join(dir, 'in.csv'),
        `Call ID,Customer ID,CSAT\n"<script>window.__pwned=1</script>",C-1,3\n"""><img src=x onerror=window.__pwned=2>",C-2,9\nCALL-1004,"<b onmouseover=alert(1)>C-3</b>",4\n`,
      );
      writeFileSync(join(dir, 'm.yaml'), 'match: { column: Call ID }\nfields:\n  customer_id: Customer ID\n  csi: { column: CSAT, type: integer, max: 5 }\n');
      const reportDir = tempDir('et-report-');
      await runCli(['run', '--dry-run', '-i', join(dir, 'in.csv'), '-m', join(dir, 'm.yaml'), '--report-dir', reportDir], envFor(sandbox.url));
      const summary = summaryOf(reportDir);
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
        const consoleErrors: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') consoleErrors.push(m.text());
        });
        page.on('pageerror', (e) => consoleErrors.push(e.message));
        page.on('request', (q) => requests.push(q.url()));
        await page.goto(`file://${join(reportDir, 'report.html')}`);
        expect(consoleErrors).toEqual([]);
        expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
        expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
        expect(await page.locator('img').count()).toBe(0);
        expect(await page.locator('script').count()).toBe(0);
        for (const [status, n] of Object.entries(summary.counts)) {
          const shown = page.locator(`[data-status="${status}"]`);
          if (n > 0) expect(Number(await shown.textContent())).toBe(n);
          else expect(await shown.count()).toBe(0);
        }
        expect(Number(await page.locator('#exit-code').textContent())).toBe(summary.exitCode);
        expect(Number(await page.locator('[data-request="requests"]').textContent())).toBe(summary.requests.requests);
        expect(await page.locator('body').textContent()).toContain('<script>window.__pwned=1</script>');
      } finally {
        await browser.close();
      }
    },
  );

  it.skipIf(!HAVE_BROWSER)("the README's screenshot is taken by this browser from a dry run of the bundled fixtures", async () => {
    const reportDir = tempDir('et-report-');
    await runCli(
      ['run', '--dry-run', '-i', fixture('crm-export.csv'), fixture('crm-export.xlsx'), '-m', configFile('mapping.example.yaml'), '--report-dir', reportDir],
      envFor(sandbox.url),
    );
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(`file://${join(reportDir, 'report.html')}`);
      const png = await page.screenshot({ fullPage: false });
      const shot = pngFacts(png);
      // the page as the viewport shows it, and not blank: many colours on it (text, bars, table)
      expect([shot.width, shot.height]).toEqual([1100, 900]);
      expect(shot.distinctBytes).toBeGreaterThan(64);
      const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')) as { exitCode: number };
      expect(Number(await page.locator('#exit-code').textContent())).toBe(summary.exitCode);
      // the README's picture is one such screenshot
      const committed = pngFacts(readFileSync(join(ROOT, 'docs', 'report.png')));
      expect([committed.width, committed.height]).toEqual([1100, 900]);
      // ET_UPDATE_SCREENSHOT=1 npm test refreshes docs/report.png
      if (process.env.ET_UPDATE_SCREENSHOT) writeFileSync(join(ROOT, 'docs', 'report.png'), png);
    } finally {
      await browser.close();
    }
  });
});

/** A PNG's size from its header, and how many distinct byte values its pixel data holds (a blank page holds a handful). */
function pngFacts(png: Buffer): { width: number; height: number; distinctBytes: number } {
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), distinctBytes: new Set(pixels).size };
}
