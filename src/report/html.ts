import { STATUSES, OK_STATUSES, type Counts } from '../row-result.js';
import type { ChangeLine, ErrorGroup, FieldSummary, ValueProblem } from './digest.js';

export interface ReportPage {
  verdict: string;
  exitCode: number;
  mode: 'run' | 'validate' | 'undo' | 'apply';
  dryRun: boolean;
  inputs: { file: string; rowsRead: number }[];
  startedAt: string;
  durationMs: number;
  counts: Counts;
  requests: Record<string, number> | null;
  /** Per endpoint: requests timed and their latency in ms. */
  latency?: Record<string, { count: number; p50: number; p90: number; p99: number; max: number } | null> | null;
  errors: ErrorGroup[];
  /** Problems by code, column and value. */
  values: ValueProblem[];
  /** Changes by field. */
  fields: FieldSummary[];
  /** What to do next: each a sentence and the exact command. */
  next: { what: string; command: string }[];
  changes: ChangeLine[];
  changeCount: number;
  /** Report files beside report.html, linked by name. */
  files: string[];
}

const COLORS: Record<string, string> = {
  updated: '#2e7d32',
  unchanged: '#607d8b',
  would_update: '#1565c0',
  skipped: '#9e9e9e',
  valid: '#2e7d32',
  unmatched: '#ef6c00',
  ambiguous: '#8e24aa',
  invalid: '#c62828',
  failed: '#b71c1c',
};

/** Text from the input or the API, made safe for HTML: every such text goes through here. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * report.html: one self-contained page (inline CSS, no script, nothing from the network) that
 * opens from a file share or an e-mail attachment: the verdict, the counts as a bar chart, the
 * errors grouped by code with their first rows, the first changes, links to the CSV files.
 */
export function renderReport(p: ReportPage): string {
  const rate = p.durationMs > 0 ? Math.round((p.counts.total / p.durationMs) * 1000) : p.counts.total;
  const kind = p.mode === 'validate' ? 'validation' : p.mode === 'run' ? 'run' : p.mode;
  const title = `et-import ${p.dryRun ? `dry ${kind}` : kind}: ${p.verdict}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style></head>
<body>
<header class="${p.exitCode === 0 ? 'good' : 'bad'}"><h1>${esc(title)}</h1>
<p>exit code <b id="exit-code">${p.exitCode}</b> · started ${esc(p.startedAt)} · ${(p.durationMs / 1000).toFixed(1)} s · <span id="rate">${rate}</span> rows/s</p></header>
<main>
<section><h2>Inputs</h2><table><tr><th>file</th><th>rows read</th></tr>${p.inputs.map((i) => `<tr><td>${esc(i.file)}</td><td class="n">${i.rowsRead}</td></tr>`).join('')}</table>
${
  p.requests
    ? `<p class="muted">API requests: ${Object.entries(p.requests)
        .map(([k, v]) => `${esc(k)} <b data-request="${esc(k)}">${v}</b>`)
        .join(' · ')}</p>`
    : ''
}${latencyTable(p.latency)}</section>
<section><h2>Rows by status</h2>${statusChart(p.counts)}</section>
${p.next.length > 0 ? `<section id="next"><h2>Next steps</h2><ol>${p.next.map((n) => `<li>${esc(n.what)}<pre><code>${esc(n.command)}</code></pre></li>`).join('')}</ol></section>` : ''}
<section><h2>Problems</h2>${problems(p.errors, p.values)}</section>
${p.mode === 'validate' ? '' : `<section><h2>Changes</h2>${fieldSummary(p.fields)}${changes(p)}</section>`}
<section><h2>Files</h2><ul>${p.files.map((f) => `<li><a href="${esc(encodeURIComponent(f))}">${esc(f)}</a></li>`).join('')}</ul></section>
</main></body></html>
`;
}

function statusChart(counts: Counts): string {
  const max = Math.max(1, ...STATUSES.map((s) => counts[s]));
  const rows = STATUSES.filter((s) => counts[s] > 0).map(
    (s) =>
      `<div class="bar-row"><span class="label">${s}${OK_STATUSES.has(s) ? '' : ' ⚠'}</span><span class="bar" style="width:${((counts[s] / max) * 100).toFixed(1)}%;background:${COLORS[s]}"></span><span class="n" data-status="${s}">${counts[s]}</span></div>`,
  );
  return `<div class="chart">${rows.join('')}<div class="bar-row total"><span class="label">total</span><span></span><span class="n" data-status="total">${counts.total}</span></div></div>`;
}

function problems(groups: ErrorGroup[], values: ValueProblem[]): string {
  if (groups.length === 0) return '<p class="muted">No row ended badly.</p>';
  return groups
    .map((g) => {
      const byValue = values.filter((v) => v.code === g.code).slice(0, 10);
      const valueList =
        byValue.length > 0
          ? `<ul class="values">${byValue.map((v) => `<li data-column="${esc(v.column)}"><b>${esc(v.column)}</b>: ${v.value === '' ? '<i>empty</i>' : `<code>${esc(v.value)}</code>`} × <span class="n">${v.count}</span> <span class="muted">(expected ${esc(v.expected)})</span></li>`).join('')}</ul>`
          : '';
      // a file named once: in the heading when every example row is from it
      const files = [...new Set(g.rows.map((r) => r.file))];
      const one = files.length === 1 ? files[0]! : undefined;
      const head = `<tr>${one ? '' : '<th>file</th>'}<th>row</th><th>key</th><th>message</th></tr>`;
      const rows = g.rows
        .map(
          (r) =>
            `<tr>${one ? '' : `<td>${esc(r.file)}</td>`}<td class="n">${r.row}</td><td class="id">${esc(r.key)}</td><td>${esc(shortMessage(r.message, r.file, r.row))}</td></tr>`,
        )
        .join('');
      return `<details open><summary><b>${esc(g.code)}</b> (${esc(g.status)}): <span data-code="${esc(g.code)}">${g.count}</span> row${g.count === 1 ? '' : 's'}${one ? ` <span class="muted">in ${esc(one)}</span>` : ''}</summary>
${valueList}<table>${head}${rows}</table>${g.count > g.rows.length ? `<p class="muted">…and ${g.count - g.rows.length} more in failed.csv</p>` : ''}</details>`;
    })
    .join('\n');
}

/** A row's message without the file and row the table already shows. */
function shortMessage(message: string, file: string, row: number): string {
  const prefix = `${file} row ${row}`;
  return message.startsWith(prefix) ? message.slice(prefix.length).replace(/^[,:]\s*/, '') : message;
}

/** Per field: rows changed and the most frequent before → after. */
function fieldSummary(fields: FieldSummary[]): string {
  if (fields.length === 0) return '';
  const rows = fields
    .map(
      (f) =>
        `<tr data-field="${esc(f.field)}"><td>${esc(f.field)}</td><td class="n">${f.rows}</td><td>${f.top.map((t) => `<code>${esc(t.before || '(absent)')}</code> → <code>${esc(t.after)}</code> × ${t.count}`).join('<br>')}</td></tr>`,
    )
    .join('');
  return `<table id="fields"><tr><th>field</th><th>rows changed</th><th>most frequent before → after</th></tr>${rows}</table>`;
}

function changes(p: ReportPage): string {
  if (p.changeCount === 0) return '<p class="muted">No change.</p>';
  const head = `<p><span id="change-count">${p.changeCount}</span> field change${p.changeCount === 1 ? '' : 's'}${p.changeCount > p.changes.length ? `; the first ${p.changes.length} below, all in changes.csv` : ''}.</p>`;
  const rows = p.changes.map(
    (c) =>
      `<tr><td>${esc(c.file)}</td><td class="n">${c.row}</td><td class="id">${esc(c.key)}</td><td class="id">${esc(c.sessionId)}</td><td>${esc(c.field)}</td><td><code>${esc(c.before)}</code></td><td><code>${esc(c.after)}</code></td></tr>`,
  );
  return `${head}<table><tr><th>file</th><th>row</th><th>key</th><th>session</th><th>field</th><th>before</th><th>after</th></tr>${rows.join('')}</table>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:16px 24px;color:#fff}header.good{background:#2e7d32}header.bad{background:#b23b3b}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}main{padding:0 24px 24px;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff;margin:4px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f0f0f0;white-space:nowrap}td.id,code{white-space:nowrap}ul.values{margin:4px 0 8px;padding-left:20px}pre{margin:4px 0;background:#f4f4f4;padding:6px 8px;overflow-x:auto}
td.n,span.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.muted{color:#666}
.chart{background:#fff;border:1px solid #ddd;padding:8px}.bar-row{display:grid;grid-template-columns:140px 1fr 80px;align-items:center;gap:8px;margin:2px 0}
.bar{height:16px;display:block;border-radius:2px}.total{border-top:1px solid #ddd;padding-top:4px;font-weight:bold}
code{font-size:12px}details{margin:8px 0}summary{cursor:pointer}`;

/** Latency by endpoint (ms), for the endpoints the run used. */
function latencyTable(l: ReportPage['latency']): string {
  const rows = Object.entries(l ?? {}).filter((e): e is [string, NonNullable<(typeof e)[1]>] => e[1] !== null);
  if (rows.length === 0) return '';
  const head = '<tr><th>endpoint</th><th>requests</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>';
  const body = rows
    .map(
      ([k, v]) =>
        `<tr><td>${esc(k)}</td><td class="n">${v.count}</td><td class="n">${v.p50}</td><td class="n">${v.p90}</td><td class="n">${v.p99}</td><td class="n">${v.max}</td></tr>`,
    )
    .join('');
  return `<table id="latency">${head}${body}</table>`;
}
