import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkExport, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { envFor, startSandbox, tempDir } from '../helpers/sandbox.js';

/** The Prometheus text exposition format, line by line: HELP and TYPE comments, then samples `name{label="v",...} value`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        expect(['counter', 'gauge', 'summary', 'histogram', 'untyped']).toContain(comment[3]);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    expect(m, `not a Prometheus sample line: ${line}`).not.toBeNull();
    const base = m![1]!.replace(/_(sum|count)$/, '');
    expect(types.has(m![1]!) || types.has(base), `${m![1]} has no TYPE`).toBe(true);
    samples.set(`${m![1]}${m![2] ?? ''}`, Number(m![3]));
  }
  return samples;
}

describe('metrics for monitoring', () => {
  it('--metrics-file writes the Prometheus text format; --pushgateway pushes the same; summary.json has the latency per endpoint', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(50), latencyMs: 5 });
    const pushed: { method: string; url: string; body: string }[] = [];
    const gateway = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        pushed.push({ method: req.method ?? '', url: req.url ?? '', body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    try {
      const { input, mapping } = bulkExport(80, 50, 31);
      const dir = tempDir('et-metrics-');
      const file = join(dir, 'et-import.prom');
      const port = (gateway.address() as { port: number }).port;
      const reportDir = join(dir, 'report');
      const r = await runCli(
        [
          'run',
          '-i',
          input,
          '-m',
          mapping,
          '--report-dir',
          reportDir,
          '--metrics-file',
          file,
          '--pushgateway',
          `http://127.0.0.1:${port}`,
          '--metrics-instance',
          'night-1',
        ],
        envFor(sandbox.url),
      );
      expect(r.code).toBe(0);
      const samples = parsePrometheus(readFileSync(file, 'utf8'));
      expect(samples.get('et_import_rows{status="updated",job="et-import",instance="night-1"}')).toBe(80);
      expect(samples.get('et_import_exit_code{kind="run",dry_run="false",job="et-import",instance="night-1"}')).toBe(0);
      expect(samples.get('et_import_requests_total{endpoint="put",status="200",job="et-import",instance="night-1"}')).toBe(80);
      expect(samples.get('et_import_request_duration_seconds_count{endpoint="search",job="et-import",instance="night-1"}')).toBeGreaterThanOrEqual(50);
      expect(samples.get('et_import_last_success_timestamp_seconds{job="et-import",instance="night-1"}')).toBeGreaterThan(Date.now() / 1000 - 600);
      expect(pushed).toHaveLength(1);
      expect(pushed[0]!.method).toBe('POST');
      expect(pushed[0]!.url).toBe('/metrics/job/et-import/instance/night-1');
      const got = parsePrometheus(pushed[0]!.body);
      expect([...got.keys()].sort()).toEqual([...samples.keys()].sort());
      const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8'));
      expect(summary.latency.put).toMatchObject({ count: 80 });
      expect(summary.latency.search.p50).toBeGreaterThanOrEqual(5);
      expect(summary.latency.search.max).toBeGreaterThanOrEqual(summary.latency.search.p99);
      expect(summary.latency.listing).toBeNull();
      expect(readFileSync(join(reportDir, 'report.html'), 'utf8')).toContain('<table id="latency">');
    } finally {
      await sandbox.close();
      await new Promise((r) => gateway.close(r));
    }
  });
});
