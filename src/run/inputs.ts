import { exportExtensions } from '../input/formats.js';
import type { Logger } from '../logger.js';
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

const EXPORTS = new Set(exportExtensions());

export interface ExpandedInputs {
  files: string[];
  /** The files of `files` found in a folder or by a pattern (not named one by one). */
  found: Set<string>;
  /** Files found in a folder or by a pattern that changed too recently: left for a later run. */
  notReady: { file: string; modifiedSecondsAgo: number }[];
  /** Files found that are not exports (another extension, an Office owner file `~$…`, a dot file): passed over. */
  passedOver: { file: string; reason: string }[];
  /** Files found whose modification time is in the future (a wrong clock): imported, with a warning. */
  futureTime: string[];
}

/** A modification time this far ahead of now is in the future, not a clock's rounding. */
const FUTURE_SLACK_MS = 2_000;

/**
 * Turns `-i` values into files: a file stays as named; a folder gives its exports (the formats of
 * input/formats.ts) in name order, not recursively; a pattern (`drop/*.csv`, quoted so the shell
 * leaves it) gives the files of its folder whose names match, in name order. Files found in a
 * folder or by a pattern that changed less than `settleMs` ago may still be uploading: they are
 * left for a later run.
 */
export function expandInputs(inputs: string[], settleMs: number, now = Date.now()): ExpandedInputs {
  const files: string[] = [];
  const seen = new Set<string>();
  const found = new Set<string>();
  const notReady: ExpandedInputs['notReady'] = [];
  const passedOver: ExpandedInputs['passedOver'] = [];
  const futureTime: string[] = [];
  const take = (file: string, byFolder: boolean) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (byFolder) {
      const why = notAnExport(file);
      if (why) {
        passedOver.push({ file, reason: why });
        return;
      }
      found.add(file);
    }
    if (byFolder && settleMs > 0) {
      const age = now - statSync(file).mtimeMs;
      // a time in the future is a clock's mistake, not a file still arriving: waiting for it
      // to settle would leave it unread every night until that time
      if (age < -FUTURE_SLACK_MS) futureTime.push(file);
      else if (age < settleMs) {
        notReady.push({ file, modifiedSecondsAgo: Math.max(0, Math.round(age / 1000)) });
        return;
      }
    }
    files.push(file);
  };
  for (const input of inputs) {
    if (/[*?[]/.test(basename(input))) {
      const dir = dirname(input);
      const re = globToRegExp(basename(input));
      for (const name of listFiles(dir)) if (re.test(name)) take(join(dir, name), true);
    } else if (isDirectory(input)) {
      for (const name of listFiles(input)) take(join(input, name), true);
    } else {
      take(input, false);
    }
  }
  return { files, found, notReady, passedOver, futureTime };
}

/** Why a file found in a folder is not an export, by its name; undefined for one that may be. */
function notAnExport(file: string): string | undefined {
  const name = basename(file);
  if (name.startsWith('~$')) return 'an Office owner file (~$…), written while a workbook is open';
  if (name.startsWith('.')) return 'a hidden file';
  if (!EXPORTS.has(extname(name).toLowerCase())) return `not an export (${extname(name) || 'no extension'}; exports are ${[...EXPORTS].join(', ')})`;
  return undefined;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Regular files of a folder, symlinks to one included, in name order (a missing folder has none). */
function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() || (d.isSymbolicLink() && isFile(join(dir, d.name))))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `*`, `?` and `[abc]` in a file name, as a shell would read them. */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The inputs of a run, what was left for later or passed over said in the log. */
export function findInputs(inputs: string[], settleMs: number, started: Date, logger: Logger): ExpandedInputs {
  const expanded = expandInputs(inputs, settleMs, started.getTime());
  for (const n of expanded.notReady) logger.warn(n, 'not ready: the file changed moments ago and may still be arriving; left for a later run (--settle)');
  for (const p of expanded.passedOver) logger.info(p, 'passed over: not an export');
  for (const file of expanded.futureTime)
    logger.warn({ file }, 'the file was modified "in the future" (a clock is wrong): imported now rather than waiting for it to settle');
  if (expanded.files.length === 0) logger.warn({ inputs }, 'no export to import');
  return expanded;
}
