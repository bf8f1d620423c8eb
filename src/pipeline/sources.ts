import { ConfigError, EtError, errorMessage, type ConfigIssue } from '../errors.js';
import { planColumns, type ColumnPlan } from '../mapping/load.js';
import type { Mapping } from '../mapping/types.js';
import { formatOf } from '../input/formats.js';
import { openRows } from '../input/open-rows.js';
import type { RowSource } from '../input/types.js';

/** What the header check learnt of an input: its file, format, header, details and snapshot. */
export type SourceInfo = Pick<RowSource, 'file' | 'snapshot' | 'format' | 'header' | 'details'>;

export interface PlannedSource {
  source: SourceInfo;
  plan: ColumnPlan;
  /**
   * The rows, from the bytes the header check read (the snapshot): the first input stays open
   * from the check, the others are opened again when their turn comes, so a folder of ten
   * thousand exports holds one open at a time. Refuses a file replaced since (E_INPUT_CHANGED).
   */
  open(): Promise<RowSource>;
  /** Releases an input still open from the check (safe to call more than once). */
  close(): Promise<void>;
}

/** A file found in a drop folder that could not be used, and why: the others are imported. */
export interface NotImported {
  file: string;
  reason: string;
  /** A `.txt` file without the mapping's columns: a note left in the folder, not an export. */
  note: boolean;
}

/**
 * Opens every input and finds the mapping's columns in each header before any row is
 * processed, so a missing column stops the run before its first request. Every problem in
 * every file is reported at once. A file found in a folder (`found`) that cannot be opened or
 * lacks the columns is left out instead, with why, while another file of the folder can be used:
 * one stray file does not block a night's exports.
 */
type Left = { file: string; issues: ConfigIssue[]; error?: unknown };

/** The mapping's columns that must be told apart in a header, lower case. */
function usedColumns(mapping: Mapping): Set<string> {
  const columns = [
    ...mapping.match.keys.map((k) => k.column),
    ...mapping.fields.map((f) => f.column),
    ...(mapping.match.dateColumn ? [mapping.match.dateColumn] : []),
  ];
  return new Set(columns.map((c) => c.trim().toLowerCase()));
}

/** Opens one input and plans its columns; a file found in a folder that cannot be used is left, with why. */
async function openOne(
  file: string,
  mapping: Mapping,
  found: ReadonlySet<string>,
  issues: ConfigIssue[],
  left: Left[],
  first: boolean,
): Promise<PlannedSource | undefined> {
  let source: RowSource;
  try {
    source = await openRows(file, mapping.input);
  } catch (e) {
    if (!found.has(file) || !(e instanceof EtError) || e.code === 'E_INTERNAL') throw e;
    left.push({ file, issues: [], error: e });
    return undefined;
  }
  const used = usedColumns(mapping);
  const dupes = duplicateHeaders(source.header).filter((d) => used.has(d.toLowerCase()));
  if (dupes.length > 0) {
    const names = dupes.map((d) => JSON.stringify(d)).join(', ');
    issues.push({
      path: '',
      message: `${file}: the header has more than one column named ${names}, which the mapping uses; rename them so each column can be told apart`,
    });
  }
  const planned = planColumns(mapping, source.header, file);
  if (!planned.ok) {
    if (found.has(file)) left.push({ file, issues: planned.error });
    else issues.push(...planned.error);
    await source.close();
    return undefined;
  }
  // only the first input stays open: the others are opened again in their turn
  if (!first) await source.close();
  return plannedSource(source, planned.value, mapping, first ? source : undefined);
}

export async function openSources(
  inputs: string[],
  mapping: Mapping,
  found: ReadonlySet<string> = new Set(),
): Promise<{ sources: PlannedSource[]; notImported: NotImported[] }> {
  const opened: PlannedSource[] = [];
  const issues: ConfigIssue[] = [];
  const left: Left[] = [];
  const closeAll = () => Promise.all(opened.map((o) => o.close()));
  try {
    for (const file of inputs) {
      const planned = await openOne(file, mapping, found, issues, left, opened.length === 0);
      if (planned) opened.push(planned);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  // a folder none of whose files can be used is a wrong mapping or a wrong folder, not a stray file
  if (opened.length === 0 && left.length > 0) {
    const first = left.find((l) => l.error !== undefined);
    if (issues.length === 0 && first && left.every((l) => l.error !== undefined)) throw first.error;
    issues.push(...left.flatMap((l) => (l.error !== undefined ? [{ path: '', message: errorMessage(l.error) }] : l.issues)));
  }
  if (issues.length > 0) {
    await closeAll();
    throw new ConfigError(mapping.file, issues);
  }
  const reason = (l: Left) => (l.error !== undefined ? errorMessage(l.error) : l.issues.map((i) => i.message).join('; '));
  const notImported =
    opened.length === 0
      ? []
      : left.map((l) => ({ file: l.file, reason: reason(l), note: l.error === undefined && formatOf(l.file)?.mayBeNote?.(l.file) === true }));
  return { sources: opened, notImported };
}

function plannedSource(source: RowSource, plan: ColumnPlan, mapping: Mapping, open: RowSource | undefined): PlannedSource {
  const info: SourceInfo = { file: source.file, snapshot: source.snapshot, format: source.format, header: source.header, details: source.details };
  let held = open;
  return {
    source: info,
    plan,
    open: async () => {
      const ready = held;
      held = undefined;
      return ready ?? (await openRows(info.file, mapping.input, info.snapshot));
    },
    close: async () => {
      const h = held;
      held = undefined;
      await h?.close();
    },
  };
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
