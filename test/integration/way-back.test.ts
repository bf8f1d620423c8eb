import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkExport, bulkId, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto, wayBackInto } from '../helpers/run.js';
import { envFor, metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

type Meta = Record<string, Record<string, unknown>>;

/** The state after an undo equals the state before the run: a key the run added is null (the API has no delete). */
function expectRestored(after: Meta, before: Meta): void {
  const cleaned = Object.fromEntries(
    Object.entries(after).map(([id, m]) => [
      id,
      Object.fromEntries(Object.entries(m).filter(([k, v]) => !(v === null && !Object.hasOwn(before[id] ?? {}, k)))),
    ]),
  );
  expect(cleaned).toEqual(before);
}

describe('a way back', () => {
  it('a 2,000-row run, then undo of its report directory: every session holds what it held before; a second undo changes nothing', async () => {
    const { input, mapping } = bulkExport(2000, 600, 5);
    const sandbox = await startSandbox({ sessions: bulkSessions(600) });
    try {
      const before = metadataById(sandbox);
      const run = await importInto(sandbox.url, { inputs: [input], mapping, concurrency: 8 });
      expect(run.exitCode).toBe(0);
      expect(metadataById(sandbox)).not.toEqual(before);
      const undo = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [run.reportDir], concurrency: 8 });
      expect(undo.exitCode).toBe(0);
      expectRestored(metadataById(sandbox), before);
      // one row per session the run wrote, each restored
      expect(undo.counts.updated).toBe(new Set(run.results.filter((r) => r.status === 'updated').map((r) => r.session_id)).size);
      expect(undo.summary.of).toEqual([run.reportDir]);

      const puts = sandbox.stats.requests['PUT /sessions/{id}/metadata 200'] ?? 0;
      const again = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [run.reportDir] });
      expect(again.exitCode).toBe(0);
      expect(again.counts.updated).toBe(0);
      expect(again.counts.unchanged).toBe(undo.counts.updated);
      expect(sandbox.stats.requests['PUT /sessions/{id}/metadata 200'] ?? 0).toBe(puts);

      // the undo can be undone: the run's writes come back
      const redo = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [undo.reportDir] });
      expect(redo.exitCode).toBe(0);
      expect(redo.counts.updated).toBe(undo.counts.updated);
    } finally {
      await sandbox.close();
    }
  }, 120_000);

  it('an undo interrupted midway is resumed into its own report directory, and finishes the restore', async () => {
    const { input, mapping } = bulkExport(400, 200, 27);
    const sandbox = await startSandbox({ sessions: bulkSessions(200) });
    try {
      const before = metadataById(sandbox);
      const run = await importInto(sandbox.url, { inputs: [input], mapping, concurrency: 8 });
      const stop = new AbortController();
      let writes = 0;
      sandbox.afterWrite = () => {
        if (++writes === 40) stop.abort();
      };
      const reportDir = tempDir('et-undo-');
      const first = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [run.reportDir], reportDir, signal: stop.signal });
      sandbox.afterWrite = undefined;
      expect(first.exitCode).toBe(4);
      expect(first.summary.resumable).toMatch(/^et-import undo \.\.\. --resume /);
      const resumed = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [run.reportDir], reportDir, resume: reportDir });
      expect(resumed.exitCode).toBe(0);
      expectRestored(metadataById(sandbox), before);
      // every session once, under the status it ended with, across both parts
      expect(resumed.counts.total).toBe(new Set(run.results.filter((r) => r.status === 'updated').map((r) => r.session_id)).size);
      expect(resumed.counts.skipped).toBe(0);
    } finally {
      await sandbox.close();
    }
  });

  it('a field another client changed after the run is kept, with its three values; the others are restored; --force restores it', async () => {
    const { input, mapping } = bulkExport(40, 20, 9);
    const sandbox = await startSandbox({ sessions: bulkSessions(20) });
    try {
      const before = metadataById(sandbox);
      const run = await importInto(sandbox.url, { inputs: [input], mapping });
      const id = run.results.find((r) => r.status === 'updated')!.session_id;
      const wrote = { ...sandbox.store.get(id)!.metadata };
      sandbox.store.get(id)!.metadata.note = 'edited by a person';
      const undo = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [run.reportDir] });
      expect(undo.exitCode).toBe(1);
      const row = undo.results.find((r) => r.session_id === id)!;
      expect(row.status).toBe('kept');
      expect(row.error_message).toContain(
        `note: before ${before[id]!.note === undefined ? 'no value' : JSON.stringify(before[id]!.note)}, the run wrote ${JSON.stringify(wrote.note)}, it holds "edited by a person" now`,
      );
      expect(sandbox.store.get(id)!.metadata.note).toBe('edited by a person');
      expect(sandbox.store.get(id)!.metadata.csi).toEqual(before[id]!.csi ?? null);
      const others = Object.fromEntries(Object.entries(metadataById(sandbox)).filter(([k]) => k !== id));
      expectRestored(others, Object.fromEntries(Object.entries(before).filter(([k]) => k !== id)));

      const forced = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [run.reportDir], force: true });
      expect(forced.exitCode).toBe(0);
      expectRestored(metadataById(sandbox), before);
    } finally {
      await sandbox.close();
    }
  });

  it('a dry run, 10 sessions changed by another client, then apply: the others hold the plan, the 10 are conflicts and untouched', async () => {
    const { input, mapping } = bulkExport(300, 120, 13);
    const sandbox = await startSandbox({ sessions: bulkSessions(120) });
    const reference = await startSandbox({ sessions: bulkSessions(120) });
    try {
      const dry = await importInto(sandbox.url, { inputs: [input], mapping, dryRun: true });
      expect(dry.exitCode).toBe(0);
      expect(existsSync(join(dry.reportDir, 'plan.jsonl'))).toBe(true);
      await importInto(reference.url, { inputs: [input], mapping });
      const touched = [...new Set(dry.results.filter((r) => r.status === 'would_update').map((r) => r.session_id))];
      const changed = touched.slice(0, 10);
      for (const id of changed) sandbox.store.get(id)!.metadata.csi = 99;
      const held = metadataById(sandbox);
      const apply = await wayBackInto(sandbox.url, { kind: 'apply', dirs: [dry.reportDir] });
      expect(apply.exitCode).toBe(1);
      expect(apply.counts.conflict).toBe(10);
      expect(apply.counts.updated).toBe(touched.length - 10);
      const now = metadataById(sandbox);
      const planned = metadataById(reference);
      for (const id of Object.keys(now)) expect(now[id]).toEqual(changed.includes(id) ? held[id] : planned[id]);
      for (const r of apply.results.filter((x) => x.status === 'conflict')) expect(r.error_message).toMatch(/csi: the plan read .*, it holds 99 now/);
    } finally {
      await sandbox.close();
      await reference.close();
    }
  });

  it('apply writes only to the plan sessions: a key that now finds another or a second session is a conflict', async () => {
    const sessions = bulkSessions(10);
    const sandbox = await startSandbox({ sessions });
    try {
      const { input, mapping } = bulkExport(10, 10, 17);
      const dry = await importInto(sandbox.url, { inputs: [input], mapping, dryRun: true });
      const first = dry.results.find((r) => r.status === 'would_update')!;
      // a second session now carries the same key
      sandbox.store.add([{ id: bulkId(500), external_id: first.key, start_time: '2025-07-01T00:00:00Z', metadata: {} }]);
      const apply = await wayBackInto(sandbox.url, { kind: 'apply', dirs: [dry.reportDir] });
      const row = apply.results.find((r) => r.session_id === first.session_id)!;
      expect(row.status).toBe('conflict');
      expect(row.error_message).toContain('now finds 2 sessions');
      expect(sandbox.store.get(bulkId(500))!.metadata).toEqual({});
      expect(sandbox.requests().filter((q) => q.method === 'PUT' && q.path.includes(bulkId(500)))).toEqual([]);
    } finally {
      await sandbox.close();
    }
  });

  it('a plan older than --max-plan-age, or a real run given to apply, is refused', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(10) });
    try {
      const { input, mapping } = bulkExport(5, 10, 19);
      const real = await importInto(sandbox.url, { inputs: [input], mapping });
      await expect(wayBackInto(sandbox.url, { kind: 'apply', dirs: [real.reportDir] })).rejects.toThrow(/not a dry run's report/);
      const dry = await importInto(sandbox.url, { inputs: [input], mapping, dryRun: true });
      await expect(wayBackInto(sandbox.url, { kind: 'apply', dirs: [dry.reportDir], maxPlanAge: 1 / 3_600_000 })).rejects.toThrow(/more than --max-plan-age/);
      await expect(wayBackInto(sandbox.url, { kind: 'undo', dirs: [dry.reportDir] })).rejects.toThrow(/wrote nothing; there is nothing to undo/);
    } finally {
      await sandbox.close();
    }
  });

  it('a second run into the same --report-dir is refused; a resume into it keeps the first part of changes.csv', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(50) });
    try {
      const { input, mapping } = bulkExport(100, 50, 21);
      const reportDir = tempDir('et-report-');
      // the first part is interrupted after 30 writes
      const stop = new AbortController();
      let writes = 0;
      sandbox.afterWrite = () => {
        if (++writes === 30) stop.abort();
      };
      const first = await importInto(sandbox.url, { inputs: [input], mapping, reportDir, signal: stop.signal });
      sandbox.afterWrite = undefined;
      expect(first.exitCode).toBe(4);
      const changes = readFileSync(join(reportDir, 'changes.csv'), 'utf8');
      await expect(importInto(sandbox.url, { inputs: [input], mapping, reportDir })).rejects.toThrow(
        /holds the report of run .* a report is never overwritten/,
      );
      expect(readFileSync(join(reportDir, 'changes.csv'), 'utf8')).toBe(changes);
      const resumed = await importInto(sandbox.url, { inputs: [input], mapping, reportDir, resume: reportDir });
      expect(resumed.exitCode).toBe(0);
      expect(readFileSync(join(reportDir, 'changes.csv'), 'utf8').startsWith(changes)).toBe(true);
      // counts of both parts: every row once, under the status it ended with
      expect(resumed.counts.total).toBe(100);
      expect(resumed.counts.skipped).toBe(0);
      expect(resumed.counts.updated + resumed.counts.unchanged).toBe(100);
      expect(resumed.summary.parts.map((p) => p.runId)).toEqual([first.summary.runId, resumed.summary.runId]);
      expect(existsSync(join(reportDir, 'part-1', 'summary.json'))).toBe(true);
      // results.csv too is the whole run's: every input row once, under the status it ended with
      const rows = resumed.results.map((r) => Number(r.row));
      expect([rows.length, new Set(rows).size]).toEqual([100, 100]);
      for (const s of ['updated', 'unchanged'] as const) expect(resumed.results.filter((r) => r.status === s).length).toBe(resumed.counts[s]);
      expect(resumed.results.some((r) => r.error_message.includes('by an earlier part of this run'))).toBe(true);
      // and the first part's own lines are kept beside its summary
      expect(readFileSync(join(reportDir, 'part-1', 'results.csv'), 'utf8').split('\n').length - 2).toBe(first.results.length);
    } finally {
      await sandbox.close();
    }
  });

  it('--report-dir takes {date} and {time}', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(5) });
    try {
      const { input, mapping } = bulkExport(5, 5, 23);
      const root = tempDir('et-reports-');
      const r = await importInto(sandbox.url, { inputs: [input], mapping, reportDir: join(root, 'nightly-{date}-{time}') });
      expect(r.reportDir).toMatch(/nightly-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
    } finally {
      await sandbox.close();
    }
  });

  it('history lists the run, the apply and the undo, the undo pointing at what it undid', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(30) });
    try {
      const { input, mapping } = bulkExport(30, 30, 25);
      const root = tempDir('et-reports-');
      const dry = await importInto(sandbox.url, { inputs: [input], mapping, dryRun: true, reportDir: join(root, 'dry') });
      const apply = await wayBackInto(sandbox.url, { kind: 'apply', dirs: [dry.reportDir], reportDir: join(root, 'apply') });
      const undo = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [apply.reportDir], reportDir: join(root, 'undo') });
      expect(undo.exitCode).toBe(0);
      const listed = await runCli(['history', root, '--json']);
      expect(listed.code).toBe(0);
      const entries = JSON.parse(listed.stdout) as { runId: string; kind: string; undoneBy: string[]; appliedBy: string[]; of: string[] }[];
      expect(entries.map((e) => e.kind)).toEqual(['run', 'apply', 'undo']);
      expect(entries[0]!.appliedBy).toEqual([apply.summary.runId]);
      expect(entries[1]!.undoneBy).toEqual([undo.summary.runId]);
      expect(entries[2]!.of).toEqual([apply.reportDir]);
      const table = await runCli(['history', root]);
      expect(table.stdout).toContain(`undone by ${undo.summary.runId}`);
    } finally {
      await sandbox.close();
    }
  });
});

describe('a crash and the way back', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`kill -9 at a random moment (seed ${seed}), then undo without a resume: the server holds what it held before the run`, async () => {
      const { input, mapping } = bulkExport(1200, 400, seed);
      const sandbox = await startSandbox({ sessions: bulkSessions(400), latencyMs: 2 });
      try {
        const before = metadataById(sandbox);
        const reportDir = tempDir('et-report-');
        const killAt = 20 + ((Math.imul(seed, 2654435761) >>> 0) % 500);
        const run = runCli(['run', '-i', input, '-m', mapping, '--report-dir', reportDir, '--concurrency', '12'], envFor(sandbox.url));
        const puts = () => sandbox.requests().filter((q) => q.method === 'PUT').length;
        while (puts() < killAt && run.child.exitCode === null) await new Promise((r) => setTimeout(r, 1));
        run.child.kill('SIGKILL');
        expect((await run).signal).toBe('SIGKILL');
        const undo = await runCli(['undo', reportDir, '--report-dir', tempDir('et-report-')], envFor(sandbox.url));
        expect([undo.code, undo.said]).toEqual([0, expect.anything()]);
        expectRestored(metadataById(sandbox), before);
      } finally {
        await sandbox.close();
      }
    }, 120_000);
  }
});
