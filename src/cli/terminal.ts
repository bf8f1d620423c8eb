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
    const known = total !== null;
    // loaded only when a bar is shown (a terminal): runs in cron or a container never need it
    const { MultiBar: Bars } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
    this.bars = new Bars({
      stream: this.stream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      format: known
        ? ' {bar} {percentage}% | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted} | not well {notWell}{skippedText}'
        : ' {value} rows | {speed} rows/s | not well {notWell}{skippedText} (total unknown)',
    });
    this.bar = this.bars.create(known ? total : 0, 0, { speed: 0, notWell: 0, skippedText: '' });
  }

  update(s: ProgressState): void {
    if (!this.bar) return;
    if (s.total !== null) this.bar.setTotal(s.total);
    const skipped = s.skipped > 0 ? ` | skipped ${s.skipped}` : '';
    this.bar.update(s.rows, {
      speed: s.rowsPerSec.overall,
      notWell: s.notWell,
      skippedText: s.concurrency === undefined ? skipped : `${skipped} | in flight ≤ ${s.concurrency}`,
    });
  }

  stop(): void {
    this.bars?.stop();
    this.bars = undefined;
    this.bar = undefined;
  }
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
  const time = typeof o.time === 'number' ? new Date(o.time).toTimeString().slice(0, 8) : '';
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const label = LEVELS[level] ?? String(level);
  const paint = color && COLOR[level] ? (s: string) => `${COLOR[level]}${s}\x1b[0m` : (s: string) => s;
  return `${time} ${paint(label)} ${String(o.msg ?? '')}${fields ? `  ${fields}` : ''}`;
}

/** The logger destination and progress view for a command: a Terminal when pretty, pino's JSON otherwise. */
export function chooseOutput(format: 'json' | 'pretty' | undefined, stderr: unknown): Terminal | undefined {
  const stream = stderr as NodeJS.WriteStream;
  const pretty = format === 'pretty' || (format === undefined && stream.isTTY === true);
  return pretty && typeof stream.write === 'function' ? new Terminal(stream) : undefined;
}
