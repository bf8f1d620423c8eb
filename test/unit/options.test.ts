import { describe, expect, it } from 'vitest';
import { resolveRunOptions } from '../../src/run/index.js';

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
