import type { ApiClient } from '../../src/api/client.js';
import { createLogger } from '../../src/logger.js';
import type { Mapping } from '../../src/mapping/types.js';
import { RowScheduler } from '../../src/pipeline/row-scheduler.js';
import type { RowResult } from '../../src/row-result.js';
import { StopControl } from '../../src/run/stop-control.js';

/** The run's own row scheduler over a client, with the results it records: tests drive a row's life through it as the read loop does. */
export function testScheduler(mapping: Mapping, client: ApiClient, concurrency: number) {
  const results: RowResult[] = [];
  const stop = new StopControl({ maxErrors: undefined, circuitBreaker: 10, stopTimeoutMs: 1000, logger: createLogger('silent') });
  const rows = new RowScheduler({
    mapping,
    client,
    stop,
    sink: { record: async (r) => void results.push(r) },
    logger: createLogger('silent'),
    dryRun: false,
    concurrency,
    resolve: { pageSize: 100, maxCandidates: 1000 },
    maxBodyBytes: 512 * 1024,
    resumed: false,
    index: undefined,
    freshMs: 0,
  });
  return { rows, results, stop };
}

/** The stats of a client that counts nothing. */
export const NO_STATS: ApiClient['stats'] = { requests: 0, searches: 0, puts: 0, logins: 0, retries: 0, throttled: 0, dryRunPuts: 0, listings: 0 };
