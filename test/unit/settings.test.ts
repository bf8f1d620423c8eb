import { describe, expect, it } from 'vitest';
import { settleRunArgs } from '../../src/cli/settings.js';

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
