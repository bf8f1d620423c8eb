import { describe, expect, it } from 'vitest';
import { checkNumberOptions, resolveRunOptions } from '../../src/run/index.js';

describe('resolveRunOptions', () => {
  const base = { inputs: ['a.csv'], mapping: 'm.yaml', mode: 'validate' as const };
  it("quotes the value the user gave, in the user's unit", () => {
    expect(() => resolveRunOptions({ ...base, timeout: -2 })).toThrow('--timeout must be a number above 0, got -2 s');
    expect(() => resolveRunOptions({ ...base, settle: -5 })).toThrow('--settle must be 0 or more, got -5 s');
    expect(() => resolveRunOptions({ ...base, maxBodyKb: -1 })).toThrow('--max-body-kb must be a number above 0, got -1 KB');
    // text that is no number (a flag the CLI could not read as one) is quoted as it was typed
    expect(() => resolveRunOptions({ ...base, timeout: '30s' as unknown as number })).toThrow('--timeout must be a number, got "30s"');
    expect(() => resolveRunOptions({ ...base, concurrency: 'many' as unknown as number })).toThrow('--concurrency must be a number or auto, got "many"');
  });
  it('checkNumberOptions refuses what resolveRunOptions would, from parsed arguments alone', () => {
    expect(() => checkNumberOptions({ timeout: -2 }, 'run')).toThrow('--timeout must be a number above 0, got -2 s');
    expect(() => checkNumberOptions({ concurrency: 'auto', maxConcurrency: 4, timeout: 30 }, 'run')).not.toThrow();
    // an option the command does not take is left to the command's own refusal
    expect(() => checkNumberOptions({ lockStale: -1 }, 'validate')).not.toThrow();
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
