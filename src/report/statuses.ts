export const STATUSES = ['updated', 'unchanged', 'would_update', 'skipped', 'valid', 'unmatched', 'ambiguous', 'invalid', 'failed'] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses that end a row well; any other status makes the run exit 1. */
export const OK_STATUSES: ReadonlySet<Status> = new Set(['updated', 'unchanged', 'would_update', 'skipped', 'valid']);

export type Counts = Record<Status | 'total', number>;

export function emptyCounts(): Counts {
  const c = {} as Counts;
  for (const s of STATUSES) c[s] = 0;
  c.total = 0;
  return c;
}
