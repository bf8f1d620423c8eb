import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bulkId, bulkKey, bulkSessions } from '../helpers/bulk.js';
import { runCli } from '../helpers/cli.js';
import { importInto } from '../helpers/run.js';
import { envFor, metadataById, putCount, startSandbox, tempDir } from '../helpers/sandbox.js';

const MAPPING =
  'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer, min: 1, max: 5 }\n  crm_statuses: { column: Status, type: list, merge: append }\n';
const line = (i: number) => `${bulkKey(i)},${1 + (i % 5)},row-${i}`;
const csv = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `${line(from + k)}\n`).join('');

/** A drop folder holding `export.csv` with rows 0..n-1 (one per session), its mapping, an archive and a state folder. */
function dropFolder(n: number) {
  const dir = tempDir();
  const drop = join(dir, 'drop');
  mkdirSync(drop);
  const file = join(drop, 'export.csv');
  writeFileSync(file, `Call ID,CSAT,Status\n${csv(0, n)}`);
  const old = new Date(Date.now() - 600_000);
  utimesSync(file, old, old);
  const mapping = join(dir, 'm.yaml');
  writeFileSync(mapping, MAPPING);
  return { dir, drop, file, mapping, archive: join(dir, 'archive'), state: join(dir, 'state') };
}

const archived = (archive: string) => (existsSync(archive) ? readdirSync(archive).flatMap((day) => readdirSync(join(archive, day))) : []);
const statusesOf = (sandbox: Awaited<ReturnType<typeof startSandbox>>, i: number) =>
  (metadataById(sandbox)[bulkId(i)]!.crm_statuses as string[] | undefined) ?? [];

/** Waits until the sandbox has taken `n` PUTs. */
async function afterPuts(sandbox: Awaited<ReturnType<typeof startSandbox>>, n: number): Promise<void> {
  for (let i = 0; i < 2000 && putCount(sandbox) < n; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('archive: exactly what was read, only when every row of it is done', () => {
  it('a file appended while the run reads it is read to the size it had and not archived; the next run imports the new rows and archives it', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(60), latencyMs: 20 });
    try {
      const f = dropFolder(30);
      const night = () =>
        importInto(sandbox.url, { inputs: [f.drop], mapping: f.mapping, archive: f.archive, stateDir: f.state, resume: f.state, settle: 0, concurrency: 2 });
      const running = night();
      await afterPuts(sandbox, 3);
      appendFileSync(f.file, csv(30, 50));
      const first = await running;
      // every row read ended well, but the file holds rows the run did not do: not exit 0
      expect(first.exitCode).toBe(1);
      expect(first.summary.changedDuringRun).toEqual([{ file: f.file, reason: expect.stringMatching(/grew/) }]);
      expect(first.counts.updated).toBe(30);
      expect(archived(f.archive)).toEqual([]);
      expect(first.summary.notArchived).toEqual([{ file: f.file, reason: expect.stringMatching(/grew while the run read it/) }]);
      expect(statusesOf(sandbox, 40)).not.toContain('row-40');
      const second = await night();
      expect(second.exitCode).toBe(0);
      expect(second.counts.updated).toBe(20);
      expect(second.counts.skipped).toBe(30);
      expect(archived(f.archive)).toEqual(['export.csv']);
      for (const i of [0, 29, 30, 49]) expect(statusesOf(sandbox, i)).toContain(`row-${i}`);
    } finally {
      await sandbox.close();
    }
  });

  it('a file delivered again under the same name (an atomic rename) during the run is not archived unread', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(60), latencyMs: 20 });
    try {
      const f = dropFolder(30);
      const running = importInto(sandbox.url, {
        inputs: [f.drop],
        mapping: f.mapping,
        archive: f.archive,
        stateDir: f.state,
        resume: f.state,
        settle: 0,
        concurrency: 2,
      });
      await afterPuts(sandbox, 3);
      writeFileSync(join(f.dir, 'next.csv'), `Call ID,CSAT,Status\n${csv(30, 60)}`);
      renameSync(join(f.dir, 'next.csv'), f.file);
      const first = await running;
      // the run read the file it opened, to its end
      expect(first.counts.updated).toBe(30);
      expect(archived(f.archive)).toEqual([]);
      expect(first.summary.notArchived[0]!.reason).toMatch(/another file was put in its place/);
      const second = await importInto(sandbox.url, { inputs: [f.drop], mapping: f.mapping, archive: f.archive, stateDir: f.state, resume: f.state, settle: 0 });
      expect(second.counts.updated).toBe(30);
      expect(archived(f.archive)).toEqual(['export.csv']);
      expect(statusesOf(sandbox, 59)).toContain('row-59');
    } finally {
      await sandbox.close();
    }
  });

  it('a last line caught half-written (no line break, the file grown since) is not imported; the next run reads it whole', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(60), latencyMs: 20 });
    try {
      const f = dropFolder(20);
      // read second, and caught in the middle of a line
      const second = join(f.dir, 'second.csv');
      writeFileSync(second, `Call ID,CSAT,Status\n${line(40)}\n${bulkKey(41)},2,row-4`);
      const running = importInto(sandbox.url, { inputs: [f.file, second], mapping: f.mapping, concurrency: 2, stateDir: f.state, resume: f.state });
      await afterPuts(sandbox, 3);
      appendFileSync(second, `1-complete\n`);
      const first = await running;
      const last = first.results.find((r) => r.key === bulkKey(41))!;
      expect(last).toMatchObject({ status: 'invalid', error_code: 'E_ROW_SHAPE', error_message: expect.stringMatching(/still being written/) });
      expect(statusesOf(sandbox, 41)).toEqual([]);
      expect(first.exitCode).toBe(1);
      const again = await importInto(sandbox.url, { inputs: [f.file, second], mapping: f.mapping, stateDir: f.state, resume: f.state });
      expect(again.exitCode).toBe(0);
      expect(statusesOf(sandbox, 41)).toEqual(['row-41-complete']);
    } finally {
      await sandbox.close();
    }
  });

  it('match.duplicates: last on a file that grows meanwhile: no row is superseded by a row the run did not read', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(60), latencyMs: 20 });
    try {
      const f = dropFolder(30);
      writeFileSync(f.mapping, MAPPING.replace('match: { column: Call ID }', 'match: { column: Call ID, duplicates: last }'));
      const running = importInto(sandbox.url, { inputs: [f.file], mapping: f.mapping, concurrency: 2 });
      await afterPuts(sandbox, 2);
      // the same keys again: a second read would call the first 20 rows superseded
      appendFileSync(f.file, csv(0, 20));
      const r = await running;
      expect(r.counts.skipped).toBe(0);
      expect(r.counts.updated).toBe(30);
      expect(r.results.every((row) => !/superseded/.test(row.error_message))).toBe(true);
    } finally {
      await sandbox.close();
    }
  });

  it('30 nights on one state directory with archiving: the journal stays the size of a night or two, not of 30', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(150) });
    try {
      const f = dropFolder(150);
      const sizes: number[] = [];
      for (let night = 0; night < 30; night++) {
        // each night the CRM delivers the same name again, with the night's values
        if (night > 0) {
          writeFileSync(
            f.file,
            `Call ID,CSAT,Status\n${Array.from({ length: 150 }, (_, i) => `${bulkKey(i)},${1 + ((i + night) % 5)},night-${night}\n`).join('')}`,
          );
          const old = new Date(Date.now() - 600_000);
          utimesSync(f.file, old, old);
        }
        const r = await importInto(sandbox.url, { inputs: [f.drop], mapping: f.mapping, archive: f.archive, stateDir: f.state, resume: f.state, settle: 0 });
        expect(r.exitCode).toBe(0);
        expect(r.counts.total).toBe(150);
        sizes.push(statSync(join(f.state, 'journal.jsonl')).size);
      }
      console.log(`journal bytes after each night: ${sizes.join(' ')}`);
      // the rows of every archived night are dropped once the journal has grown past a few nights
      expect(Math.max(...sizes.slice(3))).toBeLessThanOrEqual(Math.max(...sizes.slice(0, 3)));
    } finally {
      await sandbox.close();
    }
  }, 120_000);

  it('--archive with --shard (or JOB_COMPLETION_INDEX) is refused before any row is read, exit 3', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(60) });
    try {
      const f = dropFolder(30);
      const args = [
        'run',
        '-i',
        f.drop,
        '-m',
        f.mapping,
        '--archive',
        f.archive,
        '--settle',
        '0',
        '--state-dir',
        f.state,
        '--report-dir',
        tempDir('et-report-'),
      ];
      const flag = await runCli([...args, '--shard', '2/3'], envFor(sandbox.url));
      expect(flag.code).toBe(3);
      expect(flag.said).toMatch(/--archive cannot be used with --shard 2\/3/);
      const pod = await runCli(args, { ...envFor(sandbox.url), JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '3' });
      expect(pod.code).toBe(3);
      expect(putCount(sandbox)).toBe(0);
      expect(readdirSync(f.drop)).toEqual(['export.csv']);
    } finally {
      await sandbox.close();
    }
  });
});

describe('drop folders as users fill them', () => {
  it('follows a symlink to an export, imports a file "from the future" with a warning, passes over notes and owner files', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(60) });
    try {
      const f = dropFolder(3);
      const elsewhere = join(f.dir, 'exports');
      mkdirSync(elsewhere);
      writeFileSync(join(elsewhere, 'linked.csv'), `Call ID,CSAT,Status\n${csv(10, 12)}`);
      symlinkSync(join(elsewhere, 'linked.csv'), join(f.drop, 'linked.csv'));
      const future = join(f.drop, 'future.csv');
      writeFileSync(future, `Call ID,CSAT,Status\n${csv(20, 22)}`);
      const ahead = new Date(Date.now() + 3 * 86_400_000);
      utimesSync(future, ahead, ahead);
      writeFileSync(join(f.drop, 'README.txt'), 'Exports land here every night. Ask Jane before deleting anything.\n');
      writeFileSync(join(f.drop, '~$export.xlsx'), 'owner file');
      writeFileSync(join(f.drop, '.DS_Store'), 'x');
      writeFileSync(join(f.drop, 'notes.md'), 'x');
      const old = new Date(Date.now() - 600_000);
      for (const name of ['linked.csv', 'README.txt']) utimesSync(join(f.drop, name), old, old);
      const r = await importInto(sandbox.url, { inputs: [f.drop], mapping: f.mapping, settle: 60 });
      expect(r.exitCode).toBe(0);
      expect(r.summary.notReady).toEqual([]);
      expect(r.counts.updated).toBe(7);
      expect(r.summary.passedOver.map((p) => p.file.split('/').pop()).sort()).toEqual(['.DS_Store', 'README.txt', 'notes.md', '~$export.xlsx']);
      // and summary.json says so: "passedOver" is no secret's name
      const written = JSON.parse(readFileSync(join(r.reportDir, 'summary.json'), 'utf8')) as { passedOver: { file: string }[] };
      expect(written.passedOver.map((p) => p.file.split('/').pop()).sort()).toEqual(['.DS_Store', 'README.txt', 'notes.md', '~$export.xlsx']);
      expect(r.captured.logs.join('')).toMatch(/modified \\?"in the future/);
      for (const i of [0, 10, 21]) expect(statusesOf(sandbox, i)).toContain(`row-${i}`);
    } finally {
      await sandbox.close();
    }
  });

  it('an export of the folder that cannot be used is left, the others imported, and the run does not exit 0', async () => {
    const sandbox = await startSandbox({ sessions: bulkSessions(60) });
    try {
      const f = dropFolder(3);
      writeFileSync(join(f.drop, 'other-system.csv'), 'Ticket,Score\nT-1,5\n');
      utimesSync(join(f.drop, 'other-system.csv'), new Date(Date.now() - 600_000), new Date(Date.now() - 600_000));
      const r = await importInto(sandbox.url, { inputs: [f.drop], mapping: f.mapping });
      expect(r.counts.updated).toBe(3);
      expect(r.exitCode).toBe(1);
      expect(r.summary.notImported).toEqual([{ file: join(f.drop, 'other-system.csv'), reason: expect.stringMatching(/column "Call ID" is not in/) }]);
    } finally {
      await sandbox.close();
    }
  });

  it('ten thousand one-row files: every row reported (one file open at a time; memory is measured by hand, see the README)', async () => {
    const f = dropFolder(1);
    for (let i = 1; i < 10_000; i++) writeFileSync(join(f.drop, `e-${String(i).padStart(5, '0')}.csv`), `Call ID,CSAT,Status\n${line(i % 60)}\n`);
    const r = await importInto('http://127.0.0.1:9', { inputs: [f.drop], mapping: f.mapping, mode: 'validate', settle: 0 });
    expect(r.counts.valid).toBe(10_000);
    expect(readFileSync(join(r.reportDir, 'results.csv'), 'utf8').split('\n').length).toBe(10_002);
  }, 120_000);
});
