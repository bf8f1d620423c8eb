import type { Argv } from 'yargs';
import { readConnection } from '../../api/connection.js';
import { checkApi } from '../../lookup-tools.js';
import { displayUrl } from '../../redact.js';
import type { Io, Outcome } from '../io.js';
import { connectedClient } from './find.js';

export const describe =
  'log in, read one page of sessions, and say what was found: sessions visible, the fields and metadata keys they hold, API version, latency';
export const builder = <T>(y: Argv<T>) =>
  y
    .option('url', { type: 'string', describe: 'API base URL (overrides ET_URL)' })
    .option('page-size', { type: 'number', default: 50, describe: 'sessions read' });

interface Args {
  url?: string;
  pageSize: number;
}

export async function handler(a: Args, io: Io, outcome: Outcome): Promise<void> {
  const connection = readConnection(io.env, { url: a.url });
  const client = connectedClient(io, a.url);
  try {
    const r = await checkApi(client, a.pageSize);
    const lines = [
      `${displayUrl(connection.baseUrl)} (API ${connection.apiVersion}, TLS verification ${connection.sslVerify ? 'on' : 'OFF'}): login ok in ${Math.round(r.loginMs)} ms`,
      `sessions visible: ${r.total}; one page of ${r.sample} read in ${Math.round(r.pageMs)} ms`,
      'fields and metadata keys on those sessions (how many hold each):',
      ...r.fields.map(([k, n]) => `  ${k.padEnd(24)} ${n}`),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    outcome.code = 0;
  } finally {
    await client.close();
  }
}
