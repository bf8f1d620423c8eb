import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The tool's name and version, from its package.json (one level above src/ and dist/). */
export const TOOL: { name: string; version: string } = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return { name: pkg.name ?? 'et-import', version: pkg.version ?? 'unknown' };
  } catch {
    return { name: 'et-import', version: 'unknown' };
  }
})();

/** `sha256:` and the hex digest of a file's bytes (the mapping a run used), or null when it cannot be read. */
export function fileDigest(path: string): string | null {
  try {
    return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  } catch {
    return null;
  }
}
