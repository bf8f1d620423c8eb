import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './sandbox.js';
import { keepOutput } from './secrets.js';

export const CLI = join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stderr, then each of its JSON lines (off a terminal, every line) as its message and error: for assertions on what was said. */
  said: string;
}

/** stderr as it is, then each JSON log line as `msg err` (JSON escapes the quotes of a message). */
export function saidOf(stderr: string): string {
  const words = stderr
    .split('\n')
    .map((l) => {
      if (!l.startsWith('{')) return l;
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        return [o.msg, o.err].filter((x) => typeof x === 'string').join(' ');
      } catch {
        return l;
      }
    })
    .join('\n');
  return `${stderr}\n${words}`;
}

/** Runs the built CLI as a user would (`npm test` builds it first). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, options: { cwd?: string } = {}): Promise<CliResult> & { child: ChildProcess } {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  let child!: ChildProcess;
  const done = new Promise<CliResult>((resolve, reject) => {
    child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      keepOutput('stdout', stdout);
      keepOutput('stderr', stderr);
      resolve({ code, signal, stdout, stderr, said: saidOf(stderr) });
    });
  });
  return Object.assign(done, { child });
}
