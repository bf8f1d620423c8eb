#!/usr/bin/env -S node --max-semi-space-size=16 --max-old-space-size=2048 --heap-growing-percent=50
/**
 * The `et-import` executable: it sets the process's exit code from `main`, and its crash handlers
 * are a last resort: every expected failure, and every bug inside a run, ends through `main`'s exit
 * code. The one other exit is cli/signals.ts's, on a second SIGINT/SIGTERM (exit 4 at once).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorMessage } from './errors.js';
import { errorLine, jsonStderr } from './cli/io.js';
import { main } from './cli/main.js';
import { scrub } from './redact.js';

export { main };

const FATAL = 3;

function crash(kind: string, err: unknown): void {
  const text = `error: ${kind}: ${scrub(errorMessage(err))} (a bug in et-import; if a run was started, it can be resumed)`;
  process.stderr.write(errorLine(text, jsonStderr(process.stderr, process.argv), { code: 'E_INTERNAL', exitCode: FATAL }));
  process.exit(FATAL);
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.on('unhandledRejection', (err) => crash('unexpected failure', err));
  process.on('uncaughtException', (err) => crash('unexpected failure', err));
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => crash('unexpected failure', err),
  );
}
