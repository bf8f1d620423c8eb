import type { Argv } from 'yargs';
import { createClient } from '../../api/client.js';
import { readConnection } from '../../api/connection.js';
import { createLogger } from '../../logger.js';
import { loadMapping } from '../../mapping/load.js';
import { findKey, formatFind } from '../../lookup-tools.js';
import { defaultOf, optionSpec } from '../../run/option-table.js';
import { findConversation, formatConversation } from '../../lookup-conversation.js';
import type { Io, Outcome } from '../io.js';

export const describe =
  "show which sessions a key finds: each candidate's fields that hold it exactly (or only loosely), its type, date and metadata, and the match.keys entry that selects it; with --time, the sessions near a conversation's time and why each is in or out";
export const builder = <T>(y: Argv<T>) =>
  y
    .positional('key', { type: 'string', describe: 'a call ID, ticket ID or audio file name (or give --time)' })
    .option('time', { type: 'string', describe: "a conversation's time (ISO with offset, or YYYY-MM-DD HH:mm:ss in --timezone): the sessions near it" })
    .option('agent', {
      type: 'string',
      describe: "with --time: the agent, compared as the mapping's conversation key does (else with the session field agent)",
    })
    .option('phone', { type: 'string', describe: 'with --time: the caller’s phone number (E.164, or national with --region)' })
    .option('region', { type: 'string', describe: 'with --phone: the country of a national number, e.g. DE' })
    .option('timezone', { type: 'string', describe: "with --time: the zone of a time without an offset (default: the mapping's, else UTC)" })
    .option('tolerance', { type: 'number', describe: "with --time: seconds the time may be off (default: the mapping's, else 120)" })
    .option('date-range', {
      type: 'string',
      choices: ['days', 'times'],
      default: String(optionSpec('date-range')?.default),
      describe: optionSpec('date-range')?.describe ?? '',
    })
    .check((a) => {
      if (a.key === undefined && a.time === undefined) throw new Error('give a key, or --time with --agent and/or --phone');
      if (a.time !== undefined && a.agent === undefined && a.phone === undefined)
        throw new Error('--time needs --agent or --phone: a time alone would take any conversation of that moment');
      return true;
    })
    .option('mapping', { alias: 'm', type: 'string', describe: "also say which of this mapping's keys select each candidate" })
    .option('url', { type: 'string', describe: 'API base URL (overrides ET_URL)' })
    .option('max-candidates', { type: 'number', default: defaultOf('max-candidates'), describe: 'most candidates shown' });

interface Args {
  key?: string;
  time?: string;
  agent?: string;
  phone?: string;
  region?: string;
  timezone?: string;
  tolerance?: number;
  dateRange: 'days' | 'times';
  mapping?: string;
  url?: string;
  maxCandidates: number;
}

/** A read-only request or two; the answer on stdout. */
export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const mapping = a.mapping ? await loadMapping(a.mapping) : undefined;
  const client = connectedClient(io, a.url);
  try {
    if (a.time !== undefined)
      io.stdout.write(
        formatConversation(
          await findConversation(client, a as Args & { time: string }, mapping, {
            pageSize: defaultOf('page-size'),
            maxCandidates: a.maxCandidates,
            dateRange: a.dateRange,
          }),
        ),
      );
    else io.stdout.write(formatFind(String(a.key), await findKey(client, String(a.key), mapping, a.maxCandidates), mapping));
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
