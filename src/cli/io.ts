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
