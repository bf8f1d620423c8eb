import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import got, { type Got, type OptionsInit } from 'got';
import { ApiError, EtError } from '../errors.js';
import type { Logger } from '../logger.js';
import { registerSecret, snippet } from '../redact.js';
import type { Connection } from './connection.js';
import { parseJsonSafe } from './json.js';
import { EXTRA_429_TRIES, RETRY_CODES, RETRY_STATUSES, backoff, interrupted, parseRetryAfter, sleep } from './retry.js';
import { countListedObjects, isUuid } from './sessions.js';
import { Throttle } from './throttle.js';

export { backoff };

export interface ClientOptions {
  /** Sockets kept per host; at least the run's concurrency. */
  maxSockets?: number;
  timeoutMs?: number;
  /** Retries of a request that failed with a retryable status or network error (429s get 10 more). */
  retries?: number;
  /** First retry delay in ms; doubled each time, with jitter, up to 10 s. */
  retryBaseMs?: number;
  /** Requests per second across the run (no cap until the API answers 429). */
  rate?: number;
  /** Answers larger than this many bytes are refused rather than buffered. */
  maxResponseBytes?: number;
  /** Metadata bodies larger than this many bytes are refused before sending. */
  maxBodyBytes?: number;
  logger?: Logger;
  /** For tests: the clock. */
  now?: () => number;
  /** Ends every wait at once (retry sleeps, throttle, a login): the run is stopping. */
  stopSignal?: AbortSignal;
  /** Cancels requests on the wire (the stop timeout ran out, or the run stops as fatal). */
  cancelSignal?: AbortSignal;
  /** Told of every exchange: true when the API answered, false when it failed (network, 5xx, 408). */
  onRequest?: (answered: boolean) => void;
}

export const CLIENT_DEFAULTS = { maxSockets: 16, timeoutMs: 30_000, retries: 10, retryBaseMs: 250, maxResponseBytes: 64 * 1024 * 1024, maxBodyBytes: 512 * 1024 };

export interface SearchPage {
  total: number;
  items: Record<string, unknown>[];
}

export interface ApiStats {
  requests: number;
  searches: number;
  puts: number;
  logins: number;
  retries: number;
  throttled: number;
}

/** Refresh a token when less than this much of its life remains (the SDK uses 60 s). */
const REFRESH_MARGIN_MS = 60_000;
/** Logins forced by a refused token within a minute before the run gives up: the token lacks a right. */
const MAX_FORCED_LOGINS_PER_MINUTE = 5;

export interface ApiClient {
  /** Logs in; `retries` overrides the client's (a first login fails fast on a wrong URL). */
  login(retries?: number): Promise<void>;
  /** One page of GET /sessions; refuses a page of more than `maxItems` sessions before parsing it. */
  searchSessions(filters: string, skip: number, limit: number, maxItems?: number): Promise<SearchPage>;
  putMetadata(sessionId: string, body: Record<string, unknown>): Promise<void>;
  readonly stats: ApiStats;
  close(): void;
}

interface Call {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  searchParams?: Record<string, string | number>;
  json?: unknown;
  form?: Record<string, string>;
  auth: boolean;
  retries: number;
}

interface Answer {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/**
 * The Ender Turing client: logs in by form POST, sends `Authorization: <type> <token>`,
 * refreshes the token before it expires and once on a 401, keeps connections alive, retries
 * what is safe to repeat, and never follows a redirect (the form or the token would go with it).
 */
export function createClient(conn: Connection, options: ClientOptions = {}): ApiClient {
  const o = { ...CLIENT_DEFAULTS, ...definedOnly(options) };
  const now = options.now ?? Date.now;
  const log = options.logger;
  const agent = { http: new http.Agent({ keepAlive: true, maxSockets: o.maxSockets }), https: new https.Agent({ keepAlive: true, maxSockets: o.maxSockets }) };
  const stats: ApiStats = { requests: 0, searches: 0, puts: 0, logins: 0, retries: 0, throttled: 0 };
  const throttle = new Throttle(options.rate ?? Infinity);
  const api = createGot(conn, agent, o.timeoutMs);
  const shownTimeout = `${o.timeoutMs / 1000} s`;

  async function once(call: Call, authorization: string | undefined, signal: AbortSignal | undefined): Promise<Answer> {
    const shown = `${call.method} /${call.path}`;
    try {
      const req = api(call.path, {
        method: call.method,
        ...(call.searchParams && { searchParams: call.searchParams }),
        ...(call.json !== undefined && { json: call.json }),
        ...(call.form && { form: call.form }),
        ...(authorization && { headers: { authorization } }),
        ...(signal && { signal }),
      });
      req.on('downloadProgress', (p) => {
        if (p.transferred > o.maxResponseBytes || (p.total ?? 0) > o.maxResponseBytes) req.cancel('too large');
      });
      const res = await req;
      return { status: res.statusCode, body: res.body, headers: res.headers };
    } catch (e) {
      throw transportError(e, shown, conn.baseUrl, shownTimeout);
    }
  }

  /** One request with its retries and (for `auth` calls) one re-login on a 401. */
  async function exchange(call: Call, signal: AbortSignal | undefined): Promise<Answer> {
    let refused = false;
    for (let attempt = 1; ; attempt++) {
      await throttle.acquire(options.stopSignal);
      const header = call.auth ? await authHeader() : undefined;
      stats.requests++;
      if (log?.isLevelEnabled('trace')) log.trace({ method: call.method, path: call.path }, 'request');
      let answer: Answer;
      try {
        answer = await once(call, header, signal);
      } catch (e) {
        const error = e as ApiError;
        if (error.code === 'E_INTERRUPTED') throw error;
        if (error.code !== 'E_TOO_LARGE') options.onRequest?.(false);
        if (isRetryable(error) && attempt <= call.retries) {
          await retryWait(call, attempt, undefined, error.message);
          continue;
        }
        throw error;
      }
      const status = answer.status;
      if (status === 429) {
        stats.throttled++;
        const retryAfter = parseRetryAfter(answer.headers['retry-after']);
        throttle.onThrottled(retryAfter);
        if (attempt <= call.retries + EXTRA_429_TRIES) {
          await retryWait(call, attempt, retryAfter, 'HTTP 429');
          continue;
        }
        throw httpError(call, answer);
      }
      options.onRequest?.(!(status >= 500 || status === 408));
      if (status >= 200 && status < 300) return answer;
      if (status >= 300 && status < 400) throw redirectError(call, answer);
      if (status === 401 && call.auth) {
        if (refused) throw new ApiError('E_LOGIN', `${call.method} /${call.path} was refused (HTTP 401) with a token issued moments before: user ${conn.username} lacks the right to do this at ${conn.baseUrl}`, { status });
        refused = true;
        forgetToken(header!);
        attempt--;
        continue;
      }
      if (RETRY_STATUSES.has(status) && attempt <= call.retries) {
        await retryWait(call, attempt, parseRetryAfter(answer.headers['retry-after']), `HTTP ${status}`);
        continue;
      }
      throw httpError(call, answer);
    }
  }

  async function retryWait(call: Call, attempt: number, retryAfter: number | undefined, why: string): Promise<void> {
    stats.retries++;
    const ms = Math.min(retryAfter ?? backoff(attempt, o.retryBaseMs), 60_000);
    log?.warn({ retry: attempt, method: call.method, path: call.path.split('/')[0], reason: why, delayMs: ms }, 'retrying request');
    await sleep(ms, options.stopSignal);
  }

  let token: { header: string; expiresAt: number } | undefined;
  let loggingIn: Promise<void> | undefined;
  const forced: number[] = [];

  function forgetToken(header: string): void {
    // only drop the token if no other request has already replaced it
    if (token?.header !== header) return;
    token = undefined;
    const t = now();
    forced.push(t);
    while (forced.length > 0 && forced[0]! < t - 60_000) forced.shift();
    if (forced.length > MAX_FORCED_LOGINS_PER_MINUTE) {
      throw new ApiError('E_LOGIN', `the API refused ${forced.length} tokens within a minute (HTTP 401): user ${conn.username} cannot work at ${conn.baseUrl}`, { status: 401 });
    }
    log?.info('token refused (401): logging in again');
  }

  async function doLogin(retries: number): Promise<void> {
    stats.logins++;
    let answer: Answer;
    try {
      answer = await exchange({ method: 'POST', path: 'login/access-token', form: { username: conn.username, password: conn.password }, auth: false, retries }, options.stopSignal);
    } catch (e) {
      const error = e as ApiError;
      if (error.status !== undefined && [400, 401, 403, 422].includes(error.status)) {
        throw new ApiError('E_LOGIN', `login refused by ${conn.baseUrl} for user ${conn.username} (HTTP ${error.status}): check ET_AUTH_KEY / ET_AUTH_SECRET`, { status: error.status, cause: e });
      }
      if (error.code === 'E_REDIRECT') throw new ApiError('E_LOGIN', `login failed: ${error.message}; the password is sent nowhere but ${conn.baseUrl} (check ET_URL)`, { status: error.status, cause: e });
      throw e;
    }
    const res = parseAnswer(answer, 'POST /login/access-token') as { access_token?: unknown; token_type?: unknown; expires_in?: unknown } | null;
    if (typeof res?.access_token !== 'string' || res.access_token === '') throw new ApiError('E_LOGIN', `login at ${conn.baseUrl} answered without an access_token`);
    registerSecret(res.access_token);
    const type = typeof res.token_type === 'string' && res.token_type ? res.token_type : 'bearer';
    const ttlMs = typeof res.expires_in === 'number' && res.expires_in > 0 ? res.expires_in * 1000 : 3600_000;
    // A short-lived token is refreshed when a fifth of its life remains, a long one 60 s before.
    const margin = Math.min(REFRESH_MARGIN_MS, ttlMs / 5);
    token = { header: `${type} ${res.access_token}`, expiresAt: now() + ttlMs - margin };
    log?.debug({ expiresInSeconds: ttlMs / 1000 }, 'logged in');
  }

  function login(retries = o.retries): Promise<void> {
    loggingIn ??= doLogin(retries).finally(() => {
      loggingIn = undefined;
    });
    return loggingIn;
  }

  async function authHeader(): Promise<string> {
    while (!token || now() >= token.expiresAt) await login();
    return token.header;
  }

  return {
    login,
    stats,
    async searchSessions(filters, skip, limit, maxItems) {
      stats.searches++;
      const answer = await exchange({ method: 'GET', path: 'sessions', searchParams: { filters, skip, limit }, auth: true, retries: o.retries }, options.cancelSignal);
      if (maxItems !== undefined && countListedObjects(answer.body, maxItems + 1) > maxItems) {
        throw new ApiError('E_TOO_MANY_CANDIDATES', `GET /sessions answered more than ${maxItems} sessions for one key (--max-candidates); use a more specific key`);
      }
      const res = parseAnswer(answer, 'GET /sessions');
      if (typeof res !== 'object' || res === null || !Array.isArray((res as SearchPage).items)) throw new ApiError('E_API', 'GET /sessions answered without an `items` list');
      const page = res as SearchPage;
      return { total: typeof page.total === 'number' ? page.total : page.items.length, items: page.items.filter((i) => typeof i === 'object' && i !== null && !Array.isArray(i)) };
    },
    async putMetadata(sessionId, body) {
      if (!isUuid(sessionId)) throw new ApiError('E_BAD_SESSION_ID', `refusing to write to session id ${JSON.stringify(String(sessionId).slice(0, 80))}: not a UUID`);
      const size = Buffer.byteLength(JSON.stringify(body));
      if (size > o.maxBodyBytes) throw new ApiError('E_TOO_LARGE', `the metadata body would be ${Math.ceil(size / 1024)} KB, more than --max-body-kb ${Math.floor(o.maxBodyBytes / 1024)}; not sent`);
      stats.puts++;
      await exchange({ method: 'PUT', path: `sessions/${sessionId}/metadata`, json: body, auth: true, retries: o.retries }, options.cancelSignal);
    },
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

function createGot(conn: Connection, agent: { http: http.Agent; https: https.Agent }, timeoutMs: number): Got {
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

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isRetryable(e: ApiError): boolean {
  return e.code === 'E_TIMEOUT' || (e.code === 'E_API_UNREACHABLE' && RETRY_CODES.has(String((e.cause as { code?: unknown } | undefined)?.code)));
}

function parseAnswer(answer: Answer, shown: string): unknown {
  try {
    return parseJsonSafe(answer.body);
  } catch (e) {
    throw new ApiError('E_API', `${shown} answered something that is not JSON (HTTP ${answer.status}: ${snippet(answer.body, 80)})`, { cause: e, status: answer.status });
  }
}

function statusLine(answer: Answer): string {
  return `HTTP ${answer.status}${http.STATUS_CODES[answer.status] ? ` ${http.STATUS_CODES[answer.status]}` : ''}`;
}

function httpError(call: Call, answer: Answer): ApiError {
  const body = snippet(answer.body);
  const code = answer.status === 413 ? 'E_TOO_LARGE' : 'E_HTTP';
  return new ApiError(code, `${call.method} /${call.path.split('?')[0]} answered ${statusLine(answer)}${body ? `: ${body}` : ''}`, { status: answer.status });
}

function redirectError(call: Call, answer: Answer): ApiError {
  let where = 'nowhere (no Location)';
  const loc = answer.headers.location;
  if (loc) {
    try {
      where = `host ${new URL(loc, 'http://same-host.invalid').host.replace('same-host.invalid', 'the same host')}`;
    } catch {
      where = 'an unreadable Location';
    }
  }
  return new ApiError('E_REDIRECT', `${call.method} /${call.path.split('/')[0]}${call.path.includes('/') ? '/...' : ''} answered ${statusLine(answer)} redirecting to ${where}: not followed (ET_URL must be the API's own address)`, { status: answer.status });
}

const TLS_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED']);

/** got errors carry URLs and request options: keep only what is safe and useful, and the cause. */
export function transportError(e: unknown, shown: string, baseUrl: string, timeout: string): ApiError {
  if (e instanceof ApiError) return e;
  const err = e as { name?: string; code?: string; message?: string };
  if (err.name === 'AbortError') return interrupted(e);
  if (err.name === 'CancelError') return new ApiError('E_TOO_LARGE', `${shown} answered more than the response size limit (--max-response-mb); refused rather than buffered`, { cause: e });
  const code = err.code;
  if (err.name === 'TimeoutError' || code === 'ETIMEDOUT') return new ApiError('E_TIMEOUT', `${shown} timed out: no complete answer from ${baseUrl} within ${timeout} (--timeout)`, { cause: e });
  if (code && TLS_CODES.has(code)) {
    return new ApiError('E_API_UNREACHABLE', `${shown} failed: the TLS certificate of ${baseUrl} is not trusted (${code}); for a private CA use --ca-file or NODE_EXTRA_CA_CERTS (ET_SSL_VERIFY=false switches the check off)`, { cause: e });
  }
  const reason = code && code !== 'ERR_GOT_REQUEST_ERROR' ? code : 'connection failed';
  if (err.name === 'RequestError' || err.name === 'ReadError' || code) return new ApiError('E_API_UNREACHABLE', `${shown} failed: cannot reach ${baseUrl} (${reason})`, { cause: e });
  return new ApiError('E_API', `${shown} failed: ${err.message ?? String(e)}`, { cause: e });
}
