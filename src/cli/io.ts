export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** For tests: aborts a run as a signal would. */
  signal?: AbortSignal;
}

/** What a command's handler reports back to `main`. */
export interface Outcome {
  code: number;
  /** In: where each option given other than by default came from (see settings.ts). */
  sources?: Record<string, 'flag' | 'env' | 'config'>;
}

/**
 * Whether stderr carries JSON lines: `--log-format json`, or no terminal (cron, a container)
 * unless `--log-format pretty`. The same choice the run's logger makes (terminal.ts).
 */
export function jsonStderr(stderr: unknown, argv: readonly string[]): boolean {
  const i = argv.findIndex((a) => a === '--log-format' || a.startsWith('--log-format='));
  const format = i < 0 ? undefined : argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  if (format === 'json' || format === 'pretty') return format === 'json';
  return (stderr as { isTTY?: boolean }).isTTY !== true;
}

/** A message that ends the command on stderr: `et-import: error: ...` on a terminal, else a JSON line as the logger writes them. */
export function errorLine(text: string, json: boolean, fields: Record<string, unknown> = {}): string {
  if (!json) return `et-import: ${text}\n`;
  return `${JSON.stringify({ level: 50, time: new Date().toISOString(), name: 'et-import', ...fields, msg: text.replace(/^error: /, '') })}\n`;
}
