import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/api/connection.js';
import { resolveRunOptions } from '../../src/run/index.js';
import { OPTION_TABLE, type OptionSpec, defaultOf } from '../../src/run/option-table.js';

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
    const connection = { baseUrl: 'http://127.0.0.1:9', apiVersion: 'v1', sslVerify: true } as unknown as Connection;
    const r = resolveRunOptions({ inputs: ['a.csv'], mapping: 'm.yaml', connection, timeout: 2.5, maxBodyKb: 4, retryDelay: 7 });
    expect([r.timeoutMs, r.maxBodyBytes, r.retryBaseMs]).toEqual([2500, 4096, 7]);
    expect(r.used).toMatchObject({ timeout: 2.5, maxBodyKb: 4, retryDelay: 7, settle: defaultOf('settle'), lockStale: defaultOf('lock-stale') });
    expect(r.settleMs).toBe(defaultOf('settle') * 1000);
  });
  it('the help shows each default from the table, in its unit', async () => {
    const { createParser } = await import('../../src/cli/main.js');
    const helps: Record<string, string> = {};
    for (const command of ['run', 'validate', 'undo', 'apply'] as const)
      await createParser({ env: {}, stdout: process.stdout, stderr: process.stderr }, { code: 0 }).parseAsync([command, '--help'], {}, (_e, _a, out) => {
        helps[command] = out;
      });
    for (const o of OPTION_TABLE as readonly OptionSpec[]) {
      for (const command of o.commands ?? ['run', 'undo', 'apply']) {
        const help = helps[command]!;
        expect(help, `${command} --help`).toContain(`--${o.name}`);
        if (typeof o.default === 'number') expect(help.replace(/\s+/g, ' ')).toMatch(new RegExp(`--${o.name} [^]*?\\[default: ${o.default}\\]`));
      }
    }
    expect(helps.run).not.toContain('--force');
    expect(helps.undo).not.toContain('--mapping');
  });
});
