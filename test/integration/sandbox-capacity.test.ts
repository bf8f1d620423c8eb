import { describe, expect, it } from 'vitest';
import { bulkExport, bulkSessions } from '../helpers/bulk.js';
import { importInto } from '../helpers/run.js';
import { startSandbox } from '../helpers/sandbox.js';

describe('the sandbox with a capacity', () => {
  it('beyond --capacity requests in flight each answer slows in proportion to the load; within it, never', async () => {
    const loaded = await startSandbox({ sessions: bulkSessions(60), latencyMs: 10, capacity: 2 });
    const roomy = await startSandbox({ sessions: bulkSessions(60), latencyMs: 10, capacity: 64 });
    try {
      const { input, mapping } = bulkExport(60, 60, 41);
      await importInto(loaded.url, { inputs: [input], mapping, concurrency: 8 });
      await importInto(roomy.url, { inputs: [input], mapping, concurrency: 8 });
      // 8 rows in flight against a capacity of 2: answers came up to 4 times slower
      expect(loaded.stats.peakInFlight).toBeGreaterThan(2);
      expect(loaded.stats.peakLoad).toBe(loaded.stats.peakInFlight / 2);
      expect(roomy.stats.peakLoad).toBe(1);
    } finally {
      await loaded.close();
      await roomy.close();
    }
  });
});
