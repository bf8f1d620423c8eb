import type { Argv } from 'yargs';
import { createClient } from '../../api/client.js';
import { readConnection } from '../../api/connection.js';
import { createLogger } from '../../logger.js';
import { loadMapping } from '../../mapping/load.js';
import { findKey, formatFind } from '../../lookup-tools.js';
import { defaultOf } from '../../run/option-table.js';
import type { Io, Outcome } from '../io.js';

export const describe =
  "show which sessions a key finds: each candidate's fields that hold it exactly (or only loosely), its type, date and metadata, and the match.keys entry that selects it";
export const builder = <T>(y: Argv<T>) =>
  y
    .positional('key', { type: 'string', demandOption: true, describe: 'a call ID, ticket ID or audio file name' })
    .option('mapping', { alias: 'm', type: 'string', describe: "also say which of this mapping's keys select each candidate" })
    .option('url', { type: 'string', describe: 'API base URL (overrides ET_URL)' })
    .option('max-candidates', { type: 'number', default: defaultOf('max-candidates'), describe: 'most candidates shown' });

interface Args {
  key: string;
  mapping?: string;
  url?: string;
  maxCandidates: number;
}

/** A read-only request or two; the answer on stdout. */
export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const mapping = a.mapping ? await loadMapping(a.mapping) : undefined;
  const client = connectedClient(io, a.url);
  try {
    io.stdout.write(formatFind(String(a.key), await findKey(client, String(a.key), mapping, a.maxCandidates), mapping));
    outcome.code = 0;
  } finally {
    await client.close();
  }
}

/** A client as a run makes it, with the table's defaults; warnings only on stderr. */
export function connectedClient(io: Io, url: string | undefined) {
  const connection = readConnection(io.env, { url });
  return createClient(connection, {
    maxSockets: 2,
    timeoutMs: defaultOf('timeout') * 1000,
    retries: 2,
    retryBaseMs: defaultOf('retry-delay'),
    maxResponseBytes: defaultOf('max-response-mb') * 1024 * 1024,
    maxBodyBytes: defaultOf('max-body-kb') * 1024,
    logger: createLogger('warn'),
  });
}
