import { ConfigError, type ConfigIssue } from '../errors.js';
import { planColumns, type ColumnPlan } from '../mapping/load.js';
import type { Mapping } from '../mapping/types.js';
import { openRows } from '../input/open-rows.js';
import type { RowSource } from '../input/types.js';

export interface PlannedSource {
  source: RowSource;
  plan: ColumnPlan;
}

/**
 * Opens every input and finds the mapping's columns in each header before any row is
 * processed, so a missing column stops the run before its first request. Every problem in
 * every file is reported at once.
 */
export async function openSources(inputs: string[], mapping: Mapping): Promise<PlannedSource[]> {
  const opened: PlannedSource[] = [];
  const issues: ConfigIssue[] = [];
  try {
    for (const file of inputs) {
      const source = await openRows(file, mapping.input);
      const used = new Set([...mapping.match.keys.map((k) => k.column), ...mapping.fields.map((f) => f.column)].map((c) => c.trim().toLowerCase()));
      const dupes = duplicateHeaders(source.header).filter((d) => used.has(d.toLowerCase()));
      if (dupes.length > 0) issues.push({ path: '', message: `${file}: the header has more than one column named ${dupes.map((d) => JSON.stringify(d)).join(', ')}, which the mapping uses; rename them so each column can be told apart` });
      const planned = planColumns(mapping, source.header, file);
      if (planned.ok) opened.push({ source, plan: planned.value });
      else {
        issues.push(...planned.error);
        await source.close();
      }
    }
  } catch (err) {
    await Promise.all(opened.map((o) => o.source.close()));
    throw err;
  }
  if (issues.length > 0) {
    await Promise.all(opened.map((o) => o.source.close()));
    throw new ConfigError(mapping.file, issues);
  }
  return opened;
}

function duplicateHeaders(header: string[]): string[] {
  const seen = new Set<string>();
  const dupes = new Set<string>();
  for (const h of header) {
    if (h === '') continue;
    const k = h.toLowerCase();
    if (seen.has(k)) dupes.add(h);
    seen.add(k);
  }
  return [...dupes];
}
