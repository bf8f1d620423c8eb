import { join } from 'node:path';
import type { ResolvedOptions } from './options.js';
import type { Counts } from '../row-result.js';

/** report.html's next steps: the exact commands to feed back failed.csv, finish a stopped run, apply a plan, undo a run. */
export function nextSteps(
  o: Pick<ResolvedOptions, 'mode' | 'inputs' | 'mapping' | 'reportDir' | 'stateDir' | 'dryRun'>,
  s: { failedRows: { file: string }[]; resumable: string | null; counts: Counts },
): { what: string; command: string }[] {
  const q = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", "'\\''")}'`);
  const out: { what: string; command: string }[] = [];
  const feed = o.mode === 'validate' ? 'validate' : 'run';
  if (s.resumable && o.mode !== 'validate')
    out.push({
      what: 'The run stopped before every row was done: finish it (rows already done are skipped).',
      command: `et-import ${o.mode} ${o.mode === 'run' ? `-i ${o.inputs.map(q).join(' ')} -m ${q(o.mapping)} ` : ''}--resume ${q(o.stateDir)}`,
    });
  if (o.mode === 'run' || o.mode === 'validate')
    for (const f of s.failedRows)
      out.push({
        what: `Fix the rows in ${f.file} (its et_import_error column says why each did not end well), then feed it back:`,
        command: `et-import ${feed} -i ${q(join(o.reportDir, f.file))} -m ${q(o.mapping)}`,
      });
  if (o.dryRun && o.mode === 'run' && s.counts.would_update > 0)
    out.push({
      what: 'Write exactly what this dry run showed (a session changed since is a conflict, not written):',
      command: `et-import apply ${q(o.reportDir)}`,
    });
  if (!o.dryRun && o.mode !== 'validate' && s.counts.updated > 0)
    out.push({ what: 'If these writes were wrong, bring back what the sessions held before:', command: `et-import undo ${q(o.reportDir)}` });
  return out;
}
