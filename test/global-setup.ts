import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD } from './helpers/secrets.js';

/**
 * Every test writes what the tool produced — log lines, report files, stdout/stderr of the CLI,
 * error messages — under one folder, and every API stand-in writes the tokens it issued there.
 * After the suite, one grep over all of it must find neither the test password nor any token.
 */
let root: string;

export function setup(): void {
  root = mkdtempSync(join(tmpdir(), 'et-import-tests-'));
  process.env.ET_TEST_ARTIFACTS = root;
}

export function teardown(): void {
  const files = (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((f) => f.isFile())
    .map((f) => join(f.parentPath, f.name));
  const tokenFiles = files.filter((f) => /tokens-[^/]+\.json$/.test(f));
  const tokens = tokenFiles.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as string[]);
  const secrets = [PASSWORD, encodeURIComponent(PASSWORD), ...tokens];
  // one pass a file for all of them (a pass a secret took 15 s over a suite's 170 MB and 260 tokens)
  const anySecret = new RegExp(secrets.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
  const leaks: string[] = [];
  let bytes = 0;
  let loggedIn = false;
  for (const f of files) {
    if (tokenFiles.includes(f)) continue;
    const text = readFileSync(f, 'utf8');
    bytes += text.length;
    // an in-process run logs at trace level: this line says a token was issued to it
    loggedIn ||= text.includes('"msg":"logged in"');
    if (!anySecret.test(text)) continue;
    const hits = secrets.filter((s) => text.includes(s)).length;
    leaks.push(`${f} (${hits} secret${hits === 1 ? '' : 's'})`);
  }
  process.stdout.write(
    `\nsecret scan: ${files.length - tokenFiles.length} files (${Math.round(bytes / 1024)} KiB of logs, reports and messages) against the password and ${tokens.length} issued tokens: ${leaks.length === 0 ? 'none found' : 'LEAKS FOUND'}\n`,
  );
  const problem =
    leaks.length > 0
      ? `secrets found in test output:\n${leaks.join('\n')}\n(kept in ${root})`
      : tokens.length === 0 && loggedIn
        ? 'secret scan: runs logged in but no API stand-in recorded the tokens it issued, so the scan proves nothing for tokens'
        : undefined;
  if (problem) {
    // vitest does not fail the run for an error thrown here: set the exit code ourselves
    process.exitCode = 1;
    throw new Error(problem);
  }
  rmSync(root, { recursive: true, force: true });
}
