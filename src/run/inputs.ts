import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

const EXPORTS = new Set(['.csv', '.tsv', '.txt', '.xlsx', '.xlsm']);

export interface ExpandedInputs {
  files: string[];
  /** Files found in a folder or by a pattern that changed too recently: left for a later run. */
  notReady: { file: string; modifiedSecondsAgo: number }[];
}

/**
 * Turns `-i` values into files: a file stays as named; a folder gives its exports (.csv, .tsv,
 * .txt, .xlsx) in name order, not recursively; a pattern (`drop/*.csv`, quoted so the shell
 * leaves it) gives the files of its folder whose names match, in name order. Files found in a
 * folder or by a pattern that changed less than `settleMs` ago may still be uploading: they are
 * left for a later run.
 */
export function expandInputs(inputs: string[], settleMs: number, now = Date.now()): ExpandedInputs {
  const files: string[] = [];
  const notReady: ExpandedInputs['notReady'] = [];
  const take = (file: string, found: boolean) => {
    if (files.includes(file)) return;
    if (found && settleMs > 0) {
      const age = now - statSync(file).mtimeMs;
      if (age < settleMs) {
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
      for (const name of listFiles(input)) if (EXPORTS.has(extname(name).toLowerCase())) take(join(input, name), true);
    } else {
      take(input, false);
    }
  }
  return { files, notReady };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Plain files of a folder, in name order (a missing folder has none). */
function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
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
        re += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
