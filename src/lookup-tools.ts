import { performance } from 'node:perf_hooks';
import type { ApiClient } from './api/client.js';
import { searchFilter } from './api/sessions.js';
import type { Mapping } from './mapping/types.js';
import { baseName } from './pipeline/mapper.js';
import { isExactHit } from './pipeline/resolver.js';

/** What `find` tells of one candidate a key's search returned. */
export interface Candidate {
  id: string;
  type: unknown;
  start: unknown;
  /** Session fields that equal the key exactly. */
  exact: string[];
  /** Session fields whose base file name (no folder, no extension) equals the key's. */
  byFileName: string[];
  /** Session fields that only contain it (the search is loose). */
  loose: string[];
  /** The mapping's keys that would select this session by this value. */
  selectedBy: string[];
  item: Record<string, unknown>;
}

/** The sessions a key's search finds, each with the fields that hold it exactly or loosely, and the mapping's keys that would take it. */
export async function findKey(
  client: ApiClient,
  key: string,
  mapping: Mapping | undefined,
  limit: number,
): Promise<{ total: number; candidates: Candidate[] }> {
  const page = await client.searchSessions(searchFilter(key), 0, limit, limit);
  const lower = key.toLowerCase();
  const candidates = page.items.map((item) => {
    const fields = Object.entries(item).filter(([, v]) => typeof v === 'string' || typeof v === 'number');
    const exact = fields.filter(([, v]) => String(v) === key).map(([k]) => k);
    const byFileName = fields.filter(([k, v]) => !exact.includes(k) && baseName(String(v)) === baseName(key)).map(([k]) => k);
    const loose = fields.filter(([k, v]) => !exact.includes(k) && !byFileName.includes(k) && String(v).toLowerCase().includes(lower)).map(([k]) => k);
    const selectedBy = (mapping?.match.keys ?? [])
      .filter((k) => k.by !== 'conversation' && isExactHit(item, k, k.by === 'audio_filename' ? baseName(key) : key))
      .map((k) => k.column);
    return { id: String(item.id), type: item.type, start: item.start_time, exact, byFileName, loose, selectedBy, item };
  });
  return { total: page.total, candidates };
}

export function formatFind(key: string, found: { total: number; candidates: Candidate[] }, mapping: Mapping | undefined): string {
  const out = [`search_query ${JSON.stringify(key)}: ${found.total} session${found.total === 1 ? '' : 's'} found (a loose search: only an exact field counts)`];
  for (const c of found.candidates) {
    out.push('', `session ${c.id}  type ${String(c.type ?? '?')}  start ${String(c.start ?? '?')}`);
    if (c.exact.length > 0) out.push(`  holds it exactly in: ${c.exact.join(', ')}`);
    if (c.byFileName.length > 0) out.push(`  holds it as a file name in: ${c.byFileName.join(', ')} (by: audio_filename)`);
    if (c.exact.length === 0 && c.byFileName.length === 0)
      out.push(`  only loosely (${c.loose.join(', ') || 'a field the API searched but does not show'}): not a match`);
    const suggestion = c.exact[0]
      ? `{ column: <your column>, sessionFields: [${c.exact[0]}] }`
      : c.byFileName[0]
        ? `{ column: <your column>, by: audio_filename, sessionFields: [${c.byFileName[0]}] }`
        : undefined;
    if (suggestion) out.push(`  match.keys entry that selects it: ${suggestion}`);
    if (mapping) out.push(`  ${c.selectedBy.length > 0 ? `the mapping's key ${c.selectedBy.join(', ')} selects it` : 'no key of the mapping selects it'}`);
    const shown = Object.fromEntries(Object.entries(c.item).filter(([k]) => k !== 'id'));
    out.push(`  holds: ${JSON.stringify(shown)}`);
  }
  const exact = found.candidates.filter((c) => c.exact.length + c.byFileName.length > 0).length;
  out.push(
    '',
    exact === 1
      ? 'one session holds it exactly: a row with this key finds it'
      : `${exact} sessions hold it exactly${exact > 1 ? ': a row with this key is ambiguous unless the date or onMultiple decides' : ': a row with this key is unmatched'}`,
  );
  return `${out.join('\n')}\n`;
}

/** What `check` tells: the API answers, the login works, what one page of sessions holds. */
export async function checkApi(
  client: ApiClient,
  pageSize: number,
): Promise<{ loginMs: number; pageMs: number; total: number; fields: [string, number][]; sample: number }> {
  let t = performance.now();
  await client.login(1);
  const loginMs = performance.now() - t;
  t = performance.now();
  const page = await client.listSessions('', 0, pageSize);
  const pageMs = performance.now() - t;
  const counts = new Map<string, number>();
  for (const item of page.items) for (const k of Object.keys(item)) counts.set(k, (counts.get(k) ?? 0) + 1);
  return {
    loginMs,
    pageMs,
    total: page.total,
    fields: [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    sample: page.items.length,
  };
}
