/**
 * `npm run bench`: what et-import costs, as ratios to baselines measured in the same run (this
 * machine is shared and noisy: lone numbers mean little).
 *
 *   npm run bench                                   10,000 rows, both modes, every baseline
 *   npm run bench -- --rows 1000000 --lookup index  the million-row figure (index mode, peak RSS)
 *   npm run bench -- --rows 2000 --sessions 1000000 --lookup index
 *                                                   a million-session window, quickly
 *
 * 1. Search and index mode, each through the real CLI at --concurrency 32 against the sandbox
 *    answering after 50 ms: rows/s, requests a row, peak RSS, and the concurrency bound
 *    C / (requests a row × latency) with the share of it reached; beside each (with the baselines),
 *    a bare got loop doing that mode's requests at the same concurrency, and its share of the bound.
 * 2. validate on a CSV against raw csv-parse (columns mode) over the same file; validate on an
 *    XLSX against a bare exceljs WorkbookReader loop over the same workbook (200,000 rows,
 *    --parser-rows; each clock starts before its library loads).
 * 3. Client CPU a row of a search-mode run against a bare got loop doing the same GET + PUT (the
 *    same fields, statuses appended), each less its own run of no rows; and the whole processes.
 *
 * Each baseline and its counterpart run --tries times (3), alternating; the best of each counts.
 * 4. `--parts auto` (not by default): fixed concurrencies beside --concurrency auto against a sandbox
 *    with a capacity and one with a rate limit (see autoConcurrency).
 *
 * --parts modes,parsers,cpu,auto picks what runs. BENCH_NODE_FLAGS replaces the V8 flags (the bin's).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { DEFAULT_USER, Sandbox } from '../src/sandbox/server.js';
import type { SandboxSession } from '../src/sandbox/store.js';

// compiled to .build/scripts/: the checkout is two levels up
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, '.bench');
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=16 --max-old-space-size=2048 --heap-growing-percent=50').split(' ');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const ROWS = Number(arg('rows', '10000'));
/** `--parts auto --scenario TEXT`: only the scenarios whose name holds it (e.g. "no RateLimit"). */
const SCENARIO = arg('scenario', '');
/** Sessions in the sandbox (the index mode window): by default one a row. */
const SESSIONS = Number(arg('sessions', String(ROWS)));
const LOOKUP = arg('lookup', 'both');
const LATENCY_MS = Number(arg('latency', '50'));
const CONCURRENCY = Number(arg('concurrency', '32'));
/** Rows of the CSV and XLSX files the parsers are measured on. */
const PARSER_ROWS = Number(arg('parser-rows', '200000'));
/** Each baseline and its counterpart run this many times, alternating; the best of each counts. */
const TRIES = Number(arg('tries', '3'));
const BASELINES = !process.argv.includes('--no-baselines') && LOOKUP === 'both';
/** Which parts run: modes, parsers, cpu (all by default; the baselines only with both modes). */
const PARTS = new Set(arg('parts', BASELINES ? 'modes,parsers,cpu' : 'modes').split(','));

const uuid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const key = (i: number) => `CALL-${String(i).padStart(8, '0')}`;

function sessions(n: number): SandboxSession[] {
  return Array.from({ length: n }, (_, i) => ({
    id: uuid(i),
    type: 'call',
    external_id: key(i),
    file_name: `2025_${key(i)}_IN.mp3`,
    start_time: `2025-06-${String(1 + (i % 30)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:00Z`,
    metadata: i % 3 === 0 ? { crm_statuses: ['Opened'] } : {},
  }));
}

interface Measured {
  code: number;
  seconds: number;
  maxRssMb: number;
  cpuMs: number;
  summary?: { counts: Record<string, number>; durationMs: number; requests: Record<string, number> | null };
}

/** Runs node with the bin's V8 flags and a preload that records peak RSS and CPU at exit. */
async function measure(args: string[], env: NodeJS.ProcessEnv = {}, reportDir?: string): Promise<Measured> {
  const out = join(dir, `usage-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const preload = join(dir, 'usage-preload.mjs');
  writeFileSync(
    preload,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { const u = process.resourceUsage(); writeFileSync(process.env.BENCH_USAGE, JSON.stringify({ maxRssKb: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime })); });\n`,
  );
  // the bench's own scratch report: a report directory is never overwritten, so each run gets it empty
  if (reportDir) rmSync(reportDir, { recursive: true, force: true });
  const started = process.hrtime.bigint();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, '--import', preload, ...args], {
      cwd: root,
      env: { ...process.env, ...env, BENCH_USAGE: out },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const u = JSON.parse(readFileSync(out, 'utf8')) as { maxRssKb: number; cpuUs: number };
  const m: Measured = { code, seconds, maxRssMb: u.maxRssKb / 1024, cpuMs: u.cpuUs / 1000 };
  if (reportDir) m.summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')) as Measured['summary'];
  return m;
}

async function writeCsv(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('Call ID,CSAT,NPS,Customer ID,CRM Status,Campaign\n');
  for (let i = 0; i < n; i++) if (!out.write(`${key(i)},${(i % 5) + 1},${i % 11},C-${i},Closed;Survey sent,Campaign ${i % 7}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

const MAPPING =
  'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer, min: 1, max: 5 }\n  nps: { column: NPS, type: integer, min: 0, max: 10 }\n  customer_id: Customer ID\n  crm_statuses: { column: CRM Status, type: list, merge: append }\n  campaign_name: Campaign\n';
const cli = join(root, 'dist', 'cli.js');
const env = (url: string) => ({ ET_URL: url, ET_AUTH_KEY: DEFAULT_USER.username, ET_AUTH_SECRET: DEFAULT_USER.password });
const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  process.stdout.write(`${s}\n`);
};
const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;

async function modes(csv: string, mapping: string, all: SandboxSession[]): Promise<Record<string, unknown>> {
  const sandbox = new Sandbox({ sessions: [], latencyMs: LATENCY_MS, maxPageSize: 100 });
  const url = await sandbox.listen(0);
  const out: Record<string, unknown> = {};
  try {
    for (const mode of LOOKUP === 'both' ? ['search', 'index'] : [LOOKUP]) {
      sandbox.store.load(all);
      const report = join(dir, `report-${mode}`);
      const extra = mode === 'index' ? ['--lookup', 'index', '--window', '2025-06-01..2025-06-30'] : [];
      const m = await measure(
        [
          cli,
          'run',
          '-i',
          csv,
          '-m',
          mapping,
          '--concurrency',
          String(CONCURRENCY),
          '--report-dir',
          report,
          '--log-level',
          'warn',
          '--log-format',
          'json',
          ...extra,
        ],
        env(url),
        report,
      );
      const rows = m.summary!.counts.total!;
      // the run itself (listing included), without Node's start
      const rowsPerSec = rows / (m.summary!.durationMs / 1000);
      const perRow = m.summary!.requests!.requests! / rows;
      const bound = CONCURRENCY / (perRow * (LATENCY_MS / 1000));
      out[mode] = {
        exit: m.code,
        rows,
        seconds: r1(m.seconds),
        rowsPerSec: Math.round(rowsPerSec),
        requestsPerRow: Math.round(perRow * 1000) / 1000,
        bound: Math.round(bound),
        ofBound: r1((rowsPerSec / bound) * 100),
        peakRssMb: r1(m.maxRssMb),
      };
      say(
        `${mode.padEnd(6)} mode: ${Math.round(rowsPerSec)} rows/s, ${perRow.toFixed(3)} requests/row, bound ${Math.round(bound)} rows/s (C ${CONCURRENCY} / (${perRow.toFixed(3)} x ${LATENCY_MS} ms)): ${r1((rowsPerSec / bound) * 100)} % of the bound; peak RSS ${r1(m.maxRssMb)} MB; exit ${m.code}`,
      );
      if (BASELINES) Object.assign(out[mode] as object, await bareShare(mode, rows, rowsPerSec / bound, url, () => sandbox.store.load(all)));
    }
  } finally {
    await sandbox.close();
  }
  return out;
}

/**
 * `--parts auto`: against a sandbox answering after LATENCY_MS with a capacity of 24 requests in
 * flight, then against one capped at 200 requests/s (with its RateLimit headers, then without), a sweep of fixed concurrencies beside
 * `--concurrency auto`: auto's rows/s as a share of the best fixed one's, its share of 429 answers,
 * its latency p50/p99 against the unloaded latency, and where its limit went.
 */
async function autoConcurrency(csv: string, mapping: string, all: SandboxSession[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, options] of [
    ['capacity 24', { capacity: 24 }],
    ['rate 200/s', { rateLimit: 200 }],
    ['rate 200/s, no RateLimit headers', { rateLimit: 200, rateHeaders: false }],
  ] as const) {
    if (!name.includes(SCENARIO)) continue;
    const sandbox = new Sandbox({ sessions: [], latencyMs: LATENCY_MS, maxPageSize: 100, ...options });
    const url = await sandbox.listen(0);
    const runs: Record<string, { rowsPerSec: number; share429: number; p50: number; p99: number; limit?: unknown; exit: number; rows: number }> = {};
    try {
      for (const c of ['4', '8', '16', '24', '32', '48', 'auto']) {
        sandbox.store.load(all);
        sandbox.resetStats();
        const report = join(dir, `report-auto-${c}`);
        const m = await measure(
          [cli, 'run', '-i', csv, '-m', mapping, '--concurrency', c, '--report-dir', report, '--log-level', 'error', '--log-format', 'json'],
          env(url),
          report,
        );
        const s = m.summary as unknown as {
          counts: { total: number };
          durationMs: number;
          latency: { search: { p50: number; p99: number } };
          concurrency: { final: number; low: number; high: number } | null;
        };
        const answered = Object.entries(sandbox.stats.requests).filter(([k]) => !k.startsWith('POST'));
        const all429 = answered.filter(([k]) => k.endsWith(' 429')).reduce((n, [, v]) => n + v, 0);
        const total = answered.reduce((n, [, v]) => n + v, 0);
        runs[c] = {
          exit: m.code,
          rows: s.counts.total,
          rowsPerSec: Math.round(s.counts.total / (s.durationMs / 1000)),
          share429: r2((all429 / Math.max(1, total)) * 100),
          p50: s.latency.search.p50,
          p99: s.latency.search.p99,
          ...(s.concurrency && { limit: { final: s.concurrency.final, low: s.concurrency.low, high: s.concurrency.high } }),
        };
        say(`auto, ${name}: --concurrency ${c.padEnd(4)} ${JSON.stringify(runs[c])}`);
      }
    } finally {
      await sandbox.close();
    }
    const fixed = Object.entries(runs).filter(([c]) => c !== 'auto');
    const best = fixed.reduce((a, b) => (b[1].rowsPerSec > a[1].rowsPerSec ? b : a));
    const auto = runs.auto!;
    const summary = {
      bestFixed: best[0],
      autoShareOfBest: r2(auto.rowsPerSec / best[1].rowsPerSec),
      auto429Percent: auto.share429,
      autoP50OverUnloaded: r2(auto.p50 / LATENCY_MS),
      autoP99OverUnloaded: r2(auto.p99 / LATENCY_MS),
      autoRowsLost: ROWS - auto.rows,
    };
    say(`auto, ${name}: ${JSON.stringify(summary)}`);
    out[name] = { runs, ...summary };
  }
  return out;
}

/**
 * A bare got loop doing what the help article's loop does, `concurrency` rows at once: (a search,
 * the exact hit,) the statuses appended, one PUT of the same fields a run writes. Prints { n, ms }.
 */
function bareLoop(concurrency: number, search: boolean): string {
  return `import got from ${JSON.stringify(join(root, 'node_modules/got/dist/source/index.js'))};
import http from 'node:http';
const [url, user, password, n] = process.argv.slice(2);
const api = got.extend({ prefixUrl: url + '/api/v1/', responseType: 'json', agent: { http: new http.Agent({ keepAlive: true, maxSockets: ${concurrency} }) } });
const { access_token } = await api.post('login/access-token', { form: { username: user, password } }).json();
const headers = { authorization: 'bearer ' + access_token };
const t = process.hrtime.bigint();
const uuid = (i) => '00000000-0000-4000-8000-' + i.toString(16).padStart(12, '0');
let next = 0;
async function worker() {
  for (let i = next++; i < Number(n); i = next++) {
    const key = 'CALL-' + String(i).padStart(8, '0');
    let s = { id: uuid(i), crm_statuses: i % 3 === 0 ? ['Opened'] : [] };
    if (${search}) {
      const page = await api.get('sessions', { headers, searchParams: { filters: 'search_query,' + key, skip: 0, limit: 100 } }).json();
      s = page.items.find((x) => x.external_id === key);
    }
    const statuses = [...(s.crm_statuses ?? [])];
    for (const x of ['Closed', 'Survey sent']) if (!statuses.includes(x)) statuses.push(x);
    await api.put('sessions/' + s.id + '/metadata', { headers, json: { csi: (i % 5) + 1, nps: i % 11, customer_id: 'C-' + i, crm_statuses: statuses, campaign_name: 'Campaign ' + (i % 7) } });
  }
}
await Promise.all(Array.from({ length: ${concurrency} }, worker));
process.stdout.write(JSON.stringify({ n: Number(n), ms: Number(process.hrtime.bigint() - t) / 1e6 }));
`;
}

/**
 * What the bound leaves out (each request's own time at both ends), measured: a bare got loop
 * doing a mode's requests (index: a PUT a row; search: a search and a PUT) at the same
 * concurrency against the same sandbox, its clock started after its login.
 */
async function bareShare(mode: string, rows: number, share: number, url: string, reset: () => void): Promise<Record<string, unknown>> {
  reset();
  const script = join(dir, `bare-${mode}.mjs`);
  writeFileSync(script, bareLoop(CONCURRENCY, mode === 'search'));
  const rate = await timed(script, [url, DEFAULT_USER.username, DEFAULT_USER.password, String(rows)]);
  const itsShare = rate / (CONCURRENCY / ((mode === 'search' ? 2 : 1) * (LATENCY_MS / 1000)));
  say(
    `${' '.repeat(12)}a bare got loop of the same requests: ${Math.round(rate)} rows/s, ${r1(itsShare * 100)} % of its bound; the run reaches ${r1((share / itsShare) * 100)} % of the bare loop's share`,
  );
  return { bareGot: { rowsPerSec: Math.round(rate), ofItsBound: r1(itsShare * 100) }, ofBareGotShare: r1((share / itsShare) * 100) };
}

/** Best of `n` alternating runs of each: on a shared machine noise only ever slows a run down. */
async function bestOf<T>(n: number, runs: (() => Promise<T>)[], better: (a: T, b: T) => boolean): Promise<T[]> {
  const best: (T | undefined)[] = runs.map(() => undefined);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < runs.length; j++) {
      const r = await runs[j]!();
      if (best[j] === undefined || better(r, best[j]!)) best[j] = r;
    }
  }
  return best as T[];
}

/** Rows a second of validate, from its own summary (Node's start left out, as in the baselines). */
async function validateRate(file: string, mapping: string, report: string): Promise<number> {
  const v = await measure([cli, 'validate', '-i', file, '-m', mapping, '--report-dir', report, '--log-level', 'error', '--log-format', 'json'], {}, report);
  return v.summary!.counts.total! / (v.summary!.durationMs / 1000);
}

async function parsers(mapping: string): Promise<Record<string, unknown>> {
  const csv = join(dir, `parse-${PARSER_ROWS}.csv`);
  await writeCsv(csv, PARSER_ROWS);
  // each baseline's clock starts before it loads its library: validate loads exceljs when it opens a workbook
  const raw = join(dir, 'raw-csv.mjs');
  writeFileSync(
    raw,
    `const t = process.hrtime.bigint(); let n = 0;\nconst { createReadStream } = await import('node:fs');\nconst { parse } = await import(${JSON.stringify(join(root, 'node_modules/csv-parse/lib/index.js'))});\nfor await (const r of createReadStream(process.argv[2]).pipe(parse({ columns: true }))) n++;\nprocess.stdout.write(JSON.stringify({ n, ms: Number(process.hrtime.bigint() - t) / 1e6 }));\n`,
  );
  const [rawRate, vRate] = await bestOf(TRIES, [() => timed(raw, [csv]), () => validateRate(csv, mapping, join(dir, 'validate-csv'))], (a, b) => a > b);
  say(
    `validate CSV: ${Math.round(vRate!)} rows/s against raw csv-parse ${Math.round(rawRate!)} rows/s (${PARSER_ROWS} rows, best of ${TRIES}): ${r1((vRate! / rawRate!) * 100)} % (target 50 %)`,
  );

  const xlsx = join(dir, `parse-${PARSER_ROWS}.xlsx`);
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: xlsx, useSharedStrings: true });
  const ws = wb.addWorksheet('Export');
  ws.addRow(['Call ID', 'CSAT', 'NPS', 'Customer ID', 'CRM Status', 'Campaign']).commit();
  for (let i = 0; i < PARSER_ROWS; i++) ws.addRow([key(i), (i % 5) + 1, i % 11, `C-${i}`, 'Closed;Survey sent', `Campaign ${i % 7}`]).commit();
  await wb.commit();
  const bare = join(dir, 'bare-exceljs.mjs');
  writeFileSync(
    bare,
    `const t = process.hrtime.bigint(); let n = 0;\nconst { default: ExcelJS } = await import(${JSON.stringify(join(root, 'node_modules/exceljs/lib/exceljs.nodejs.js'))});\nconst reader = new ExcelJS.stream.xlsx.WorkbookReader(process.argv[2], { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' });\nfor await (const ws of reader) for await (const row of ws) n++;\nprocess.stdout.write(JSON.stringify({ n: n - 1, ms: Number(process.hrtime.bigint() - t) / 1e6 }));\n`,
  );
  const [bareRate, vxRate] = await bestOf(TRIES, [() => timed(bare, [xlsx]), () => validateRate(xlsx, mapping, join(dir, 'validate-xlsx'))], (a, b) => a > b);
  say(
    `validate XLSX: ${Math.round(vxRate!)} rows/s against a bare exceljs WorkbookReader loop ${Math.round(bareRate!)} rows/s (${PARSER_ROWS} rows, best of ${TRIES}): ${r1((vxRate! / bareRate!) * 100)} % (target 70 %)`,
  );
  return {
    rows: PARSER_ROWS,
    tries: TRIES,
    csv: { validate: Math.round(vRate!), rawCsvParse: Math.round(rawRate!), percent: r1((vRate! / rawRate!) * 100) },
    xlsx: { validate: Math.round(vxRate!), bareExceljs: Math.round(bareRate!), percent: r1((vxRate! / bareRate!) * 100) },
  };
}

/** Rows a second of a baseline script that prints { n, ms }. */
async function timed(script: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...NODE_FLAGS, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  await once(child, 'close');
  const r = JSON.parse(text) as { n: number; ms: number };
  return r.n / (r.ms / 1000);
}

async function clientCpu(csv: string, mapping: string, all: SandboxSession[]): Promise<Record<string, unknown>> {
  const n = ROWS;
  const sandbox = new Sandbox({ sessions: all.slice(0, n) });
  const url = await sandbox.listen(0);
  try {
    const loop = join(dir, 'bare-got.mjs');
    writeFileSync(loop, bareLoop(8, true));
    const report = join(dir, 'report-cpu');
    const empty = join(dir, 'empty.csv');
    await writeCsv(empty, 0);
    // each run starts from the same sessions: every row writes
    const bareRun = (rows: number) => () => {
      sandbox.store.load(all.slice(0, n));
      return measure([loop, url, DEFAULT_USER.username, DEFAULT_USER.password, String(rows)]);
    };
    const cliRun = (file: string) => () => {
      sandbox.store.load(all.slice(0, n));
      return measure([cli, 'run', '-i', file, '-m', mapping, '--report-dir', report, '--log-level', 'warn', '--log-format', 'json'], env(url), report);
    };
    const [bare, run, bare0, run0] = await bestOf(TRIES, [bareRun(n), cliRun(csv), bareRun(0), cliRun(empty)], (a, b) => a.cpuMs < b.cpuMs);
    const whole = run!.cpuMs / bare!.cpuMs;
    // a row's own cost: each run less the same command with no rows (Node's start, loading, login, the report's files)
    const runRow = (run!.cpuMs - run0!.cpuMs) / n;
    const bareRow = (bare!.cpuMs - bare0!.cpuMs) / n;
    say(
      `client CPU a row: ${runRow.toFixed(2)} ms for a run against ${bareRow.toFixed(2)} ms for a bare got loop doing the same GET + PUT (${n} rows, each less its own run of no rows: ${Math.round(run0!.cpuMs)} and ${Math.round(bare0!.cpuMs)} ms; best of ${TRIES}): ${(runRow / bareRow).toFixed(2)}x (target at most 1.3x)`,
    );
    say(`client CPU of the whole process, start included: ${(run!.cpuMs / n).toFixed(2)} against ${(bare!.cpuMs / n).toFixed(2)} ms/row: ${whole.toFixed(2)}x`);
    return {
      rows: n,
      tries: TRIES,
      runMsPerRow: r2(runRow),
      bareGotMsPerRow: r2(bareRow),
      ratio: r2(runRow / bareRow),
      noRowsMs: { run: Math.round(run0!.cpuMs), bareGot: Math.round(bare0!.cpuMs) },
      wholeProcess: { runMsPerRow: r2(run!.cpuMs / n), bareGotMsPerRow: r2(bare!.cpuMs / n), ratio: r2(whole) },
    };
  } finally {
    await sandbox.close();
  }
}

async function main(): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, `export-${ROWS}.csv`);
  const mapping = join(dir, 'mapping.yaml');
  writeFileSync(mapping, MAPPING);
  await writeCsv(csv, ROWS);
  const all = sessions(Math.max(SESSIONS, ROWS));
  say(
    `bench: ${ROWS} rows, ${all.length} sessions over June 2025, latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY}; node ${process.version} ${NODE_FLAGS.join(' ')}`,
  );
  const result: Record<string, unknown> = { rows: ROWS, latencyMs: LATENCY_MS, concurrency: CONCURRENCY };
  if (PARTS.has('modes')) result.modes = await modes(csv, mapping, all);
  if (PARTS.has('parsers')) result.parsers = await parsers(mapping);
  if (PARTS.has('cpu')) result.clientCpu = await clientCpu(csv, mapping, all);
  if (PARTS.has('auto')) result.auto = await autoConcurrency(csv, mapping, all);
  writeFileSync(join(dir, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  say(`bench: results in ${join(dir, 'bench.json')}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
