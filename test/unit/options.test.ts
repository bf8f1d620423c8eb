import { describe, expect, it } from 'vitest';
import { settleRunArgs } from '../../src/cli/settings.js';
import { parseMaxErrors, resolveRunOptions } from '../../src/run/index.js';
import { OPTION_TABLE, type OptionSpec, defaultOf } from '../../src/run/option-table.js';

describe('parseMaxErrors', () => {
  it('takes a count or a percentage', () => {
    expect(parseMaxErrors('100')).toEqual({ count: 100 });
    expect(parseMaxErrors('5%')).toEqual({ percent: 5 });
    expect(parseMaxErrors(undefined)).toBeUndefined();
    expect(() => parseMaxErrors('five')).toThrow(/--max-errors/);
    expect(() => parseMaxErrors('0')).toThrow(/--max-errors/);
  });
});

describe('resolveRunOptions', () => {
  const base = { inputs: ['a.csv'], mapping: 'm.yaml', mode: 'validate' as const };
  it("quotes the value the user gave, in the user's unit", () => {
    expect(() => resolveRunOptions({ ...base, timeout: -2 })).toThrow('--timeout must be a number above 0, got -2 s');
    expect(() => resolveRunOptions({ ...base, settle: -5 })).toThrow('--settle must be 0 or more, got -5 s');
    expect(() => resolveRunOptions({ ...base, maxBodyKb: -1 })).toThrow('--max-body-kb must be a number above 0, got -1 KB');
  });
  it('refuses --archive with --shard before anything is read', () => {
    expect(() =>
      resolveRunOptions({
        ...base,
        mode: 'run',
        connection: { baseUrl: 'http://x', apiVersion: 'v1', username: 'u', password: 'p', sslVerify: true },
        archive: 'done',
        shard: { index: 1, count: 2 },
      }),
    ).toThrow(/--archive cannot be used with --shard 1\/2/);
  });
});

describe('settleRunArgs', () => {
  it('a flag spelt camelCase (--stateDir) wins over ET_IMPORT_STATE_DIR, not joined with it', () => {
    const { argv, sources } = settleRunArgs(['run', '--stateDir', '/x'], { ET_IMPORT_STATE_DIR: '/y' });
    expect(argv).toEqual(['run', '--stateDir', '/x']);
    expect(sources['state-dir']).toBe('flag');
  });
  it('JOB_COMPLETION_INDEX needs JOB_COMPLETIONS', () => {
    expect(() => settleRunArgs(['run'], { JOB_COMPLETION_INDEX: '0' })).toThrow(/JOB_COMPLETIONS is not set/);
    expect(settleRunArgs(['run'], { JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '4' }).argv).toContain('--shard=4/4');
    expect(() => settleRunArgs(['run'], { JOB_COMPLETION_INDEX: '4', JOB_COMPLETIONS: '4' })).toThrow(/do not make a shard/);
  });
});

describe('the option table', () => {
  it('every option is declared once, with a check for each number, and none is named like a secret', () => {
    const names = OPTION_TABLE.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    for (const o of OPTION_TABLE as readonly OptionSpec[]) {
      expect(o.name).not.toMatch(/pass(word)?|secret|token|auth|credential/i);
      if (o.type === 'number') expect(o.check, o.name).toBeDefined();
      if (o.unit) expect(o.default ?? o.check, o.name).toBeDefined();
    }
  });
  it('resolves in internal units once, and summary.json gets the values in the user units', () => {
    const r = resolveRunOptions({ inputs: ['a.csv'], mapping: 'm.yaml', mode: 'validate', timeout: 2.5, maxBodyKb: 4, retryDelay: 7 });
    expect([r.timeoutMs, r.maxBodyBytes, r.retryBaseMs]).toEqual([2500, 4096, 7]);
    expect(r.used).toMatchObject({ timeout: 2.5, maxBodyKb: 4, retryDelay: 7, settle: defaultOf('settle'), lockStale: defaultOf('lock-stale') });
    expect(r.settleMs).toBe(defaultOf('settle') * 1000);
  });
  it('the help shows each default from the table, in its unit', async () => {
    const { createParser } = await import('../../src/cli/main.js');
    let help = '';
    await createParser({ env: {}, stdout: process.stdout, stderr: process.stderr }, { code: 0 }).parseAsync(['run', '--help'], {}, (_e, _a, out) => {
      help = out;
    });
    for (const o of OPTION_TABLE as readonly OptionSpec[]) {
      expect(help).toContain(`--${o.name}`);
      if (typeof o.default === 'number') expect(help.replace(/\s+/g, ' ')).toMatch(new RegExp(`--${o.name} [^]*?\\[default: ${o.default}\\]`));
    }
  });
});
