import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SandboxSession } from '../../src/sandbox/store.js';
import { bulkId } from '../helpers/bulk.js';
import { byRow, importInto } from '../helpers/run.js';
import { metadataById, startSandbox, tempDir } from '../helpers/sandbox.js';

const AGENTS = ['amiller', 'cdarwin', 'jdoe', 'bkhan'];
const QUEUES = ['Support', 'Billing', 'Sales'];
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
/** A German mobile number: as the telephony stores it (digits with the country code), and 8 digits to write it locally. */
const mobile = (i: number) => `${String(10_000_000 + ((i * 7_654_321) % 89_999_999)).slice(0, 8)}`;
/** Europe/Berlin wall-clock time in June (UTC+2), as the CRM writes it. */
function berlin(ms: number): string {
  const d = new Date(ms + 2 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}.${p(d.getUTCMonth() + 1)}.${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

interface Month {
  sessions: SandboxSession[];
  input: string;
  mapping: string;
  /** Row number (1-based data row + 1 for the header) -> the session it belongs to. */
  truth: Map<number, string>;
  nearMisses: Set<string>;
}

/**
 * June 2025: 30 calls a day, each answered by a survey row with no call ID (agent in another
 * case, the caller's phone written locally or internationally, a Berlin time up to 40 s off the
 * session's start, queue, CSAT, NPS); beside every third call, near misses: the same agent two
 * minutes later with another caller, the same caller on another day, another agent at the same second.
 */
function month(opts: { perDay?: number; days?: number; dateRange?: string } = {}): Month {
  const perDay = opts.perDay ?? 30;
  const days = opts.days ?? 30;
  const sessions: SandboxSession[] = [];
  const truth = new Map<number, string>();
  const nearMisses = new Set<string>();
  const lines = ['Survey ID,Agent,Customer Phone,Call Time,Queue,CSAT,NPS'];
  let n = 0;
  const add = (s: Omit<SandboxSession, 'id' | 'metadata'>) => {
    const id = bulkId(n++);
    sessions.push({ id, type: 'call', metadata: {}, ...s });
    return id;
  };
  for (let d = 0; d < days; d++)
    for (let c = 0; c < perDay; c++) {
      const i = d * perDay + c;
      // calls 10 minutes apart on a day from 08:00 UTC, so that the near misses stay near only this call
      const start = Date.UTC(2025, 5, 1 + d, 8, 0, 0) + c * 600_000 + (i % 7) * 1000;
      const agent = AGENTS[i % AGENTS.length]!;
      const phone = mobile(i);
      const queue = QUEUES[i % QUEUES.length]!;
      const id = add({ start_time: iso(start), agent, caller: `49151${phone}`, destination: '4930555000', queue });
      if (i % 3 === 0) {
        nearMisses.add(add({ start_time: iso(start + 120_000 + 5_000), agent, caller: `49151${mobile(i + 5000)}`, destination: '4930555000', queue }));
        nearMisses.add(
          add({ start_time: iso(start + 86_400_000 + 300_000), agent: AGENTS[(i + 1) % 4]!, caller: `49151${phone}`, destination: '4930555000', queue }),
        );
        nearMisses.add(add({ start_time: iso(start), agent: AGENTS[(i + 2) % 4]!, caller: `49151${phone}`, destination: '4930555000', queue }));
      }
      const off = ((i * 13) % 81) - 40;
      const written = i % 2 === 0 ? `0151 ${phone}` : `+49 151 ${phone}`;
      const shownAgent = i % 2 === 0 ? agent.toUpperCase() : agent;
      lines.push(`S-${i},${shownAgent},${written},${berlin(start + off * 1000)},${queue},${1 + (i % 5)},${i % 11}`);
      truth.set(lines.length, id);
    }
  const dir = tempDir('et-conv-');
  const input = join(dir, 'surveys.csv');
  writeFileSync(input, `${lines.join('\n')}\n`);
  const mapping = join(dir, 'mapping.yaml');
  writeFileSync(
    mapping,
    [
      'match:',
      '  keys:',
      '    - by: conversation',
      '      time: { column: Call Time, sessionField: start_time, tolerance: 120, timezone: Europe/Berlin, formats: ["DD.MM.YYYY HH:mm:ss"] }',
      '      equal:',
      '        - { column: Agent, sessionField: agent }',
      '        - { column: Customer Phone, sessionFields: [caller, destination], as: phone, region: DE }',
      '      filters: { types: call }',
      '  onMultiple: nearest',
      'fields:',
      '  csi: { column: CSAT, type: integer }',
      '  nps: { column: NPS, type: integer }',
      '',
    ].join('\n'),
  );
  return { sessions, input, mapping, truth, nearMisses };
}

function checkTruth(m: Month, results: ReturnType<typeof byRow>, held: Record<string, Record<string, unknown>>) {
  for (const [row, id] of m.truth) {
    const r = results[`surveys.csv:${row}`]!;
    expect(r, `row ${row}`).toBeDefined();
    expect({ row, status: r.status, session: r.session_id }).toEqual({ row, status: 'updated', session: id });
    expect(r.matched_by).toMatch(/^conversation, Δ \d+ s$/);
  }
  for (const id of m.nearMisses) expect(held[id], id).toEqual({});
}

describe('match by conversation', () => {
  it('index mode: a month of surveys with no call ID reaches every right session, never a near miss, at most 1.2 requests a row', async () => {
    const m = month();
    const sandbox = await startSandbox({ sessions: m.sessions });
    try {
      const r = await importInto(sandbox.url, { inputs: [m.input], mapping: m.mapping, lookup: 'index', concurrency: 8 });
      expect(r.exitCode).toBe(0);
      expect(r.counts).toMatchObject({ total: 900, updated: 900 });
      checkTruth(m, byRow(r.results), metadataById(sandbox));
      expect(r.summary.requests!.requests / r.counts.total).toBeLessThanOrEqual(1.2);
    } finally {
      await sandbox.close();
    }
  });

  it('search mode, with date_range as days and as times: the same sessions', async () => {
    for (const dateRange of ['days', 'times'] as const) {
      const m = month({ perDay: 10, days: 4 });
      const sandbox = await startSandbox({ sessions: m.sessions });
      try {
        const r = await importInto(sandbox.url, { inputs: [m.input], mapping: m.mapping, dateRange, concurrency: 8 });
        expect(r.exitCode, dateRange).toBe(0);
        checkTruth(m, byRow(r.results), metadataById(sandbox));
        const listings = sandbox.requests().filter((q) => q.path === '/api/v1/sessions');
        expect(
          listings.every((q) => /date_range,\S+\|\|\S+±types,call/.test(q.query.filters ?? '')),
          dateRange,
        ).toBe(true);
        if (dateRange === 'times') expect(listings.every((q) => /T\d\d:\d\d:\d\dZ\|\|/.test(q.query.filters ?? ''))).toBe(true);
      } finally {
        await sandbox.close();
      }
    }
  });

  it('two sessions equally near: ambiguous, nothing written; nearest with a clear winner: written, with the time difference', async () => {
    const t = Date.UTC(2025, 6, 3, 9, 0, 0);
    const s = (n: number, at: number, caller: string): SandboxSession => ({
      id: bulkId(n),
      type: 'call',
      start_time: iso(at),
      agent: 'jdoe',
      caller,
      metadata: {},
    });
    const sessions = [
      s(1, t - 30_000, '4915112345678'),
      s(2, t + 30_000, '4915112345678'),
      s(3, t + 5_000, '4915187654321'),
      s(4, t + 90_000, '4915187654321'),
    ];
    const sandbox = await startSandbox({ sessions });
    const dir = tempDir('et-conv-');
    const input = join(dir, 'in.csv');
    writeFileSync(input, `Agent,Phone,Time,CSAT\njdoe,0151 12345678,${iso(t)},5\njdoe,+49 151 87654321,${iso(t)},4\n`);
    const mapping = (onMultiple: string) => {
      const f = join(dir, `${onMultiple}.yaml`);
      writeFileSync(
        f,
        `match:\n  keys:\n    - { by: conversation, time: Time, equal: [{ column: Agent, sessionField: agent }, { column: Phone, sessionField: caller, as: phone, region: DE }] }\n  onMultiple: ${onMultiple}\nfields:\n  csi: { column: CSAT, type: integer }\n`,
      );
      return f;
    };
    try {
      const fail = await importInto(sandbox.url, { inputs: [input], mapping: mapping('fail'), dryRun: true });
      expect(fail.results.map((r) => r.status)).toEqual(['ambiguous', 'ambiguous']);
      expect(fail.results[0]!.error_code).toBe('E_AMBIGUOUS');
      expect(fail.results[0]!.error_message).toContain(bulkId(1));
      expect(fail.results[0]!.error_message).toContain(bulkId(2));
      const near = await importInto(sandbox.url, { inputs: [input], mapping: mapping('nearest') });
      expect(near.exitCode).toBe(1);
      const [tie, clear] = near.results;
      expect(tie).toMatchObject({ status: 'ambiguous', error_code: 'E_AMBIGUOUS' });
      expect(tie!.error_message).toContain('not nearer than the next');
      expect(clear).toMatchObject({ status: 'updated', session_id: bulkId(3), matched_by: 'conversation, Δ 5 s' });
      const held = metadataById(sandbox);
      expect([held[bulkId(1)], held[bulkId(2)], held[bulkId(3)], held[bulkId(4)]]).toEqual([{}, {}, { csi: 4 }, {}]);
    } finally {
      await sandbox.close();
    }
  });

  it('match.keys [call ID, then conversation]: rows with an ID use it, rows without fall back, results.csv says which; undo brings every session back', async () => {
    const t = Date.UTC(2025, 6, 4, 10, 0, 0);
    const sessions: SandboxSession[] = [0, 1, 2, 3].map((n) => ({
      id: bulkId(n),
      type: 'call',
      external_id: `CALL-${n}`,
      start_time: iso(t + n * 600_000),
      agent: AGENTS[n]!,
      caller: `4915100000${n}00`,
      metadata: n === 1 ? { crm_statuses: ['Opened'] } : {},
    }));
    const sandbox = await startSandbox({ sessions });
    const dir = tempDir('et-conv-');
    const input = join(dir, 'in.csv');
    const rows = sessions.map((_x, n) => `${n % 2 === 0 ? `CALL-${n}` : ''},${AGENTS[n]},0151 00000${n}00,${iso(t + n * 600_000 + 7_000)},${n + 1}`);
    writeFileSync(input, `Call ID,Agent,Phone,Time,CSAT\n${rows.join('\n')}\n`);
    const mapping = join(dir, 'm.yaml');
    writeFileSync(
      mapping,
      `match:\n  keys:\n    - { column: Call ID }\n    - { by: conversation, time: { column: Time, tolerance: 60 }, equal: [{ column: Agent, sessionField: agent }, { column: Phone, sessionField: caller, as: phone, region: DE }] }\nfields:\n  csi: { column: CSAT, type: integer }\n`,
    );
    try {
      const r = await importInto(sandbox.url, { inputs: [input], mapping });
      expect(r.exitCode).toBe(0);
      expect(r.results.map((x) => [x.session_id, x.matched_by, x.key])).toEqual([
        [bulkId(0), 'Call ID', 'CALL-0'],
        [bulkId(1), 'conversation, Δ 7 s', iso(t + 600_000 + 7_000)],
        [bulkId(2), 'Call ID', 'CALL-2'],
        [bulkId(3), 'conversation, Δ 7 s', iso(t + 1_800_000 + 7_000)],
      ]);
      expect(metadataById(sandbox)[bulkId(1)]).toEqual({ crm_statuses: ['Opened'], csi: 2 });
      const { wayBackInto } = await import('../helpers/run.js');
      const u = await wayBackInto(sandbox.url, { kind: 'undo', dirs: [r.reportDir] });
      expect(u.exitCode).toBe(0);
      expect(u.results.map((x) => x.status)).toEqual(['updated', 'updated', 'updated', 'updated']);
      const held = metadataById(sandbox);
      expect(held[bulkId(1)]).toEqual({ crm_statuses: ['Opened'], csi: null });
    } finally {
      await sandbox.close();
    }
  });

  it('refuses a mapping that writes a field the conversation key compares, or a key with a time alone', async () => {
    const { parseMapping } = await import('../../src/mapping/load.js');
    const key = '{ by: conversation, time: Time, equal: [{ column: Agent, sessionField: agent }] }';
    expect(() => parseMapping(`match:\n  keys:\n    - { column: Call ID }\n    - ${key}\nfields:\n  agent: { column: Agent }\n`, 'm.yaml')).toThrow(
      /"agent" is a session field used for matching/,
    );
    expect(() => parseMapping('match:\n  keys:\n    - { by: conversation, time: Time }\nfields:\n  csi: { column: CSAT }\n', 'm.yaml')).toThrow(/a time alone/);
    expect(() =>
      parseMapping(
        `match:\n  keys:\n    - { by: conversation, time: Time, equal: [{ column: P, sessionField: caller, as: phone, region: XX }] }\nfields:\n  csi: { column: CSAT }\n`,
        'm.yaml',
      ),
    ).toThrow(/two-letter country code/);
  });
});
