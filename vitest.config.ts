import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // most files wait on a sandbox over HTTP rather than compute: two at a time on a 2-core
    // machine took the suite from 250 s to 165 s (vitest's default here was one at a time)
    maxWorkers: Math.max(2, availableParallelism()),
    // each worker imports src/ once for all its files instead of once a file: 239 s -> 200-218 s
    // here. No test depends on a module being fresh: the CLI runs in processes of its own,
    // sandboxes are started per test on port 0, what src/ keeps in a module is a cache or the
    // scrubber's list of secrets (which only grows), and the one test with fake timers restores
    // them in `finally`.
    isolate: false,
    globalSetup: ['test/global-setup.ts'],
  },
});
