import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeApi } from '../helpers/fake-api.js';
import { importInto } from '../helpers/run.js';
import { metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

const S = '33333333-3333-4333-8333-333333333333';
const T = '44444444-4444-4444-8444-444444444444';
const MAPPING = 'match: { column: Call ID }\nfields:\n  csi: { column: CSAT, type: integer }\n  note: Note\n';

function files(csv: string) {
  const dir = tempDir();
  writeFileSync(join(dir, 'in.csv'), csv);
  writeFileSync(join(dir, 'm.yaml'), MAPPING);
  return { input: join(dir, 'in.csv'), mapping: join(dir, 'm.yaml') };
}

/** An API that stores what it is given, and refuses the PUTs the test names. */
async function storingApi(refuse: (body: Record<string, unknown>) => boolean) {
  const store = new Map<string, Record<string, unknown>>([
    [S, { id: S, external_id: 'CALL-S', metadata: {} }],
    [T, { id: T, external_id: 'CALL-T', metadata: {} }],
  ]);
  const api = await startFakeApi((r) => {
    if (r.method === 'GET' && r.path.endsWith('/sessions')) {
      const key = r.query.get('filters')!.split(',')[1];
      const items = [...store.values()].filter((s) => s.external_id === key).map((s) => ({ ...s, ...(s.metadata as object) }));
      return { body: { total: items.length, items } };
    }
    if (r.method === 'PUT') {
      const id = r.path.split('/')[4]!;
      const body = JSON.parse(r.body) as Record<string, unknown>;
      if (refuse(body)) return { status: 400, body: { detail: 'refused once' } };
      Object.assign(store.get(id)!.metadata as object, body);
      return { body: {} };
    }
    return undefined;
  });
  return { api, meta: (id: string) => store.get(id)!.metadata as Record<string, unknown> };
}

describe('resume keeps file order per session', () => {
  const csv = 'Call ID,CSAT,Note\nCALL-S,1,first\nCALL-T,4,other\nCALL-S,2,second\n';

  it('a row that failed is redone on resume, and every later row of its session after it: the later row wins', async () => {
    let refused = 0;
    const { api, meta } = await storingApi((body) => body.note === 'first' && refused++ === 0);
    try {
      const f = files(csv);
      const first = await importInto(api.url, { inputs: [f.input], mapping: f.mapping, concurrency: 4 });
      expect(first.results.map((r) => r.status)).toEqual(expect.arrayContaining(['failed', 'updated', 'updated']));
      expect(meta(S)).toEqual({ csi: 2, note: 'second' });
      const again = await importInto(api.url, { inputs: [f.input], mapping: f.mapping, resume: first.stateDir, concurrency: 4 });
      const by = Object.fromEntries(again.results.map((r) => [r.row, r.status]));
      // row 2 redone, then row 4 redone after it although the journal had it done; row 3 skipped
      expect(by).toEqual({ '2': 'updated', '3': 'skipped', '4': 'updated' });
      expect(meta(S)).toEqual({ csi: 2, note: 'second' });
      expect(again.exitCode).toBe(0);
    } finally {
      await api.close();
    }
  });

  it("after a finished run, row 2 is edited and the run resumed: the session holds the file's last row for it", async () => {
    const { api, meta } = await storingApi(() => false);
    try {
      const f = files(csv);
      const first = await importInto(api.url, { inputs: [f.input], mapping: f.mapping });
      expect(first.counts).toMatchObject({ updated: 3 });
      writeFileSync(f.input, csv.replace('CALL-S,1,first', 'CALL-S,5,edited'));
      const again = await importInto(api.url, { inputs: [f.input], mapping: f.mapping, resume: first.stateDir });
      expect(meta(S)).toEqual({ csi: 2, note: 'second' });
      expect(meta(T)).toEqual({ csi: 4, note: 'other' });
      expect(again.counts).toMatchObject({ skipped: 1, updated: 2 });
    } finally {
      await api.close();
    }
  });

  it('a row unmatched in the first run is updated by the resume once its session exists', async () => {
    const sandbox = await startSandbox();
    try {
      const f = files('Call ID,CSAT,Note\nCALL-1004,3,known\nCALL-NEW-1,4,late\n');
      const first = await importInto(sandbox.url, { inputs: [f.input], mapping: f.mapping });
      expect(first.counts).toMatchObject({ updated: 1, unmatched: 1 });
      expect(first.exitCode).toBe(1);
      const id = '55555555-5555-4555-8555-555555555555';
      sandbox.store.add([{ id, external_id: 'CALL-NEW-1', metadata: {} }]);
      const again = await importInto(sandbox.url, { inputs: [f.input], mapping: f.mapping, resume: first.stateDir });
      expect(again.counts).toMatchObject({ skipped: 1, updated: 1 });
      expect(again.exitCode).toBe(0);
      expect(metadataById(sandbox)[id]).toEqual({ csi: 4, note: 'late' });
    } finally {
      await sandbox.close();
    }
  });

  it("a real run refuses to resume a dry run's journal (exit 3, saying why); a dry run resuming a real journal keeps its own", async () => {
    const sandbox = await startSandbox();
    try {
      const f = files('Call ID,CSAT,Note\nCALL-1004,3,a\nCALL-1003,4,b\n');
      const dry = await importInto(sandbox.url, { inputs: [f.input], mapping: f.mapping, dryRun: true });
      expect(dry.counts).toMatchObject({ would_update: 2 });
      await expect(importInto(sandbox.url, { inputs: [f.input], mapping: f.mapping, resume: dry.stateDir })).rejects.toThrow(/is a dry run's journal/);
      const real = await importInto(sandbox.url, { inputs: [f.input], mapping: f.mapping });
      const dryAfter = await importInto(sandbox.url, { inputs: [f.input], mapping: f.mapping, dryRun: true, resume: real.stateDir });
      expect(dryAfter.counts).toMatchObject({ skipped: 2 });
      expect(dryAfter.stateDir).not.toBe(real.stateDir);
      // the real journal is untouched by the dry run: a real resume still trusts it
      const realAgain = await importInto(sandbox.url, { inputs: [f.input], mapping: f.mapping, resume: real.stateDir });
      expect(realAgain.counts).toMatchObject({ skipped: 2 });
    } finally {
      await sandbox.close();
    }
  });
});
