import { createRequire } from 'node:module';
import type { MultiBar, SingleBar } from 'cli-progress';
import type { ProgressState, ProgressView } from '../run/progress.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLOR: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[31m' };
// the run id is on every JSON line; a terminal shows it once, when the run starts
const SKIP = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname', 'run']);

/**
 * A run on a terminal: log lines in readable form (time, level, message, fields), printed above a
 * live progress bar from cli-progress rather than through it.
 */
export class Terminal implements ProgressView {
  private bars: MultiBar | undefined;
  private bar: SingleBar | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  /** A pino destination: each JSON line is printed in readable form. */
  readonly destination = {
    write: (line: string) => {
      const text = formatLine(line, this.stream.isTTY === true);
      if (this.bars) this.bars.log(`${text}\n`);
      else this.stream.write(`${text}\n`);
    },
  };

  start(total: number | null): void {
    // loaded only when a bar is shown (a terminal): runs in cron or a container never need it
    const { MultiBar: Bars } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
    this.known = total !== null;
    this.bars = new Bars({
      stream: this.stream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      format: (_o, params, payload: Payload) => barLine(this.stream.columns || 80, this.known, params, payload),
    });
    this.bar = this.bars.create(this.known ? (total ?? 0) : 0, 0, { speed: 0, notWell: 0, extra: [] });
  }

  private known = false;

  update(s: ProgressState): void {
    if (!this.bar) return;
    if (s.total !== null) this.bar.setTotal(s.total);
    const extra = [
      ...(s.skipped > 0 ? [`skipped ${s.skipped}`] : []),
      ...(s.concurrency === undefined ? [] : [`in flight ≤ ${s.concurrency}`]),
      ...(s.stoppedAt ? [s.stoppedAt] : []),
    ];
    this.bar.update(s.rows, { speed: s.rowsPerSec.overall, notWell: s.notWell, extra, eta: s.etaSeconds });
  }

  stop(): void {
    this.bars?.stop();
    this.bars = undefined;
    this.bar = undefined;
  }
}

interface Payload {
  speed: number;
  notWell: number;
  extra: string[];
  eta?: number | null;
}

/**
 * The progress line for a terminal `columns` wide: percent, ETA and the not-well count always
 * (from 60 columns up they fit); then, as room allows, rows done of the total, rows/s, the extras
 * (skipped, in flight, where a stop left it), and last the bar itself, which takes what is left.
 */
export function barLine(columns: number, known: boolean, params: { value: number; total: number; progress: number }, payload: Payload): string {
  const width = Math.max(20, columns - 1);
  const notWell = { text: `not well ${payload.notWell}`, keep: true };
  const speed = { text: `${payload.speed} rows/s`, keep: false };
  const extras = payload.extra.map((text) => ({ text, keep: false }));
  if (!known) return fitParts(width, [{ text: `${params.value} rows`, keep: true }, speed, notWell, ...extras, { text: '(total unknown)', keep: false }]);
  const line = fitParts(width, [
    { text: `${Math.floor(Math.min(1, params.progress) * 100)}%`, keep: true },
    { text: `${params.value}/${params.total} rows`, keep: false },
    speed,
    { text: `ETA ${etaText(payload.eta ?? null)}`, keep: true },
    notWell,
    ...extras,
  ]);
  const room = width - line.length - 2;
  if (room < 10) return line;
  const size = Math.min(40, room);
  const full = Math.round(Math.min(1, params.progress) * size);
  return ` ${'█'.repeat(full)}${'░'.repeat(size - full)}${line}`;
}

/** The parts in the order shown: those to keep always, and of the others as many as fit, in that order. */
function fitParts(width: number, parts: { text: string; keep: boolean }[]): string {
  const shown = parts.map((p) => p.keep);
  const line = () => ` ${parts.flatMap((p, i) => (shown[i] ? [p.text] : [])).join(' | ')}`;
  for (let i = 0; i < parts.length; i++) {
    if (shown[i]) continue;
    shown[i] = true;
    if (line().length > width) shown[i] = false;
  }
  return line();
}

function etaText(s: number | null): string {
  if (s === null) return '?';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One pino JSON line as `12:00:01 WARN  message  key=value ...`. */
export function formatLine(line: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const level = typeof o.level === 'number' ? o.level : 30;
  const time = typeof o.time === 'number' || typeof o.time === 'string' ? new Date(o.time).toTimeString().slice(0, 8) : '';
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${readable(v)}`)
    .join(' ');
  const label = LEVELS[level] ?? String(level);
  const paint = color && COLOR[level] ? (s: string) => `${COLOR[level]}${s}\x1b[0m` : (s: string) => s;
  return `${time} ${paint(label)} ${String(o.msg ?? '')}${fields ? `  ${fields}` : ''}`;
}

/**
 * A field's value for people: text as it is (cut at 200 characters), a list's first five items
 * and how many more, an object's entries (zero counts left out), never a JSON dump.
 */
export function readable(v: unknown, depth = 0): string {
  if (typeof v === 'string') return v.length > 200 ? `${v.slice(0, 200)}…` : v;
  if (v === null || typeof v !== 'object') return String(v);
  if (depth > 1) return Array.isArray(v) ? `[${v.length} items]` : '{…}';
  if (Array.isArray(v)) {
    const shown = v.slice(0, 5).map((x) => readable(x, depth + 1));
    return `${shown.join(', ')}${v.length > 5 ? ` and ${v.length - 5} more` : ''}`;
  }
  const entries = Object.entries(v).filter(([, x]) => x !== 0 && x !== undefined);
  const shown = entries.slice(0, 8).map(([k, x]) => `${k} ${readable(x, depth + 1)}`);
  return `(${shown.join(', ')}${entries.length > 8 ? `, and ${entries.length - 8} more` : ''})`;
}

/** The logger destination and progress view for a command: a Terminal when pretty, pino's JSON otherwise. */
export function chooseOutput(format: 'json' | 'pretty' | undefined, stderr: unknown): Terminal | undefined {
  const stream = stderr as NodeJS.WriteStream;
  const pretty = format === 'pretty' || (format === undefined && stream.isTTY === true);
  return pretty && typeof stream.write === 'function' ? new Terminal(stream) : undefined;
}
