import { describe, expect, it } from 'vitest';
import { settleRunArgs } from '../../src/cli/settings.js';

describe('settleRunArgs', () => {
  it('an ET_IMPORT_ variable that names no option is refused, with the nearest name', () => {
    expect(() => settleRunArgs(['run'], { ET_IMPORT_CONCURENCY: '4' })).toThrow(
      /ET_IMPORT_CONCURENCY is not an option of et-import run \(did you mean ET_IMPORT_CONCURRENCY\?\)/,
    );
    expect(() => settleRunArgs(['run'], { ET_IMPORT_PASSWORD: 'x' })).toThrow(/secrets come from ET_AUTH_SECRET/);
    expect(settleRunArgs(['run'], { ET_IMPORT_CONCURRENCY: '4' }).argv).toEqual(['run', '--concurrency=4']);
  });

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
