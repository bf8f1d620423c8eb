import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import got, { type Got, type OptionsInit } from 'got';
import { EtError } from '../errors.js';
import type { Connection } from './connection.js';

/** The got instance of a connection: its base URL, TLS trust, agents and timeout; no retries and no redirects of got's own. */
export function createGot(conn: Connection, agent: { http: http.Agent; https: https.Agent }, timeoutMs: number): Got {
  const httpsOptions: NonNullable<OptionsInit['https']> = { rejectUnauthorized: conn.sslVerify };
  if (conn.caFile) {
    try {
      httpsOptions.certificateAuthority = readFileSync(conn.caFile);
    } catch (e) {
      throw new EtError('E_USAGE', `cannot read --ca-file ${conn.caFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { cause: e });
    }
  }
  return got.extend({
    prefixUrl: `${conn.baseUrl}/api/${conn.apiVersion}/`,
    agent,
    https: httpsOptions,
    timeout: { request: timeoutMs },
    // retries are ours (every wait can be cut short by a stop); redirects are never followed
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
    responseType: 'text',
    headers: { 'user-agent': 'et-import' },
  });
}
