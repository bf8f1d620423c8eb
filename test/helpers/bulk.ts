import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxSession } from '../../src/sandbox/store.js';
import { tempDir } from './sandbox.js';

export const bulkId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
export const bulkKey = (i: number) => `K-${String(i).padStart(6, '0')}`;

/** `n` sessions keyed K-000000..., some holding a status list already. */
export function bulkSessions(n: number): SandboxSession[] {
  return Array.from({ length: n }, (_, i) => ({
    id: bulkId(i),
    external_id: bulkKey(i),
    start_time: '2025-07-01T00:00:00Z',
    metadata: i % 4 === 0 ? { crm_statuses: ['Opened'] } : {},
  }));
}

/**
 * A CSV of `rows` rows over `sessions` sessions, so keys repeat: the final state depends on
 * the rows being applied in file order. Deterministic for a given seed.
 */
export function bulkExport(rows: number, sessions: number, seed = 7): { input: string; mapping: string; dir: string } {
  const rnd = seeded(seed);
  return writeExport(
    Array.from({ length: rows }, () => Math.floor(rnd() * sessions)),
    rnd,
  );
}

/**
 * A CSV that names every one of `sessions` sessions once, in a shuffled order, plus `extra` rows
 * that repeat `repeatedKeys` of them at random places: most keys once, a few several times.
 */
export function bulkExportRepeating(sessions: number, extra: number, repeatedKeys: number, seed = 11): { input: string; mapping: string; dir: string } {
  const rnd = seeded(seed);
  const order = Array.from({ length: sessions }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const repeated = order.slice(0, repeatedKeys);
  for (let k = 0; k < extra; k++) order.splice(Math.floor(rnd() * order.length), 0, repeated[k % repeatedKeys]!);
  return writeExport(order, rnd);
}

function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
}

function writeExport(keys: number[], rnd: () => number): { input: string; mapping: string; dir: string } {
  const lines = ['Call ID,CSAT,Status,Note'];
  for (const [r, s] of keys.entries()) lines.push(`${bulkKey(s)},${1 + Math.floor(rnd() * 5)},st-${Math.floor(rnd() * 6)};row-${r},note ${r}`);
  const dir = tempDir('et-bulk-');
  const input = join(dir, 'bulk.csv');
  writeFileSync(input, `${lines.join('\n')}\n`);
  const mapping = join(dir, 'mapping.yaml');
  writeFileSync(
    mapping,
    'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer, min: 1, max: 5 }\n  crm_statuses: { column: Status, type: list, merge: append }\n  note: { column: Note }\n',
  );
  return { input, mapping, dir };
}
