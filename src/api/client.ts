import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import got, { HTTPError, RequestError, type Got, type OptionsInit, type OptionsOfJSONResponseBody } from 'got';
import { ApiError, EtError } from '../errors.js';
import type { Logger } from '../logger.js';
import { registerSecret, scrub } from '../redact.js';
import type { Connection } from './connection.js';
import { Throttle } from './throttle.js';

export interface ClientOptions {
  /** Sockets kept per host; at least the run's concurrency. */
  maxSockets?: number;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  /** Retries of a request that failed with a retryable status or network error (429s get 10 more). */
  retries?: number;
  /** First retry delay in ms; doubled each time, with jitter, up to 10 s (default 250). */
  retryBaseMs?: number;
  /** Requests per second across the run (default: no cap until the API answers 429). */
  rate?: number;
  /** Answers larger than this many bytes are refused rather than buffered (default 64 MiB). */
  maxResponseBytes?: number;
  logger?: Logger;
  /** For tests: the clock. */
  now?: () => number;
}

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** Refresh a token when less than this much of its life remains (the SDK uses 60 s). */
const REFRESH_MARGIN_MS = 60_000;

export interface ApiClient {
  login(): Promise<void>;
  searchSessions(filters: string, skip: number, limit: number): Promise<SearchPage>;
  putMetadata(sessionId: string, body: Record<string, unknown>): Promise<unknown>;
  readonly stats: ApiStats;
  close(): void;
}

/**
 * The Ender Turing client: logs in by form POST, sends `Authorization: <type> <token>`,
 * refreshes the token before it expires and once on a 401, keeps connections alive.
 */
export function createClient(conn: Connection, options: ClientOptions = {}): ApiClient {
  const now = options.now ?? Date.now;
  const log = options.logger;
  const maxSockets = options.maxSockets ?? 16;
  const agent = {
    http: new http.Agent({ keepAlive: true, maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets }),
  };
  const stats: ApiStats = { requests: 0, searches: 0, puts: 0, logins: 0, retries: 0, throttled: 0 };
  const retries = options.retries ?? 3;
  const retryBaseMs = options.retryBaseMs ?? 250;
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  const throttle = new Throttle(options.rate ?? Infinity);
  const httpsOptions: NonNullable<OptionsInit['https']> = { rejectUnauthorized: conn.sslVerify };
  if (conn.caFile) {
    try {
      httpsOptions.certificateAuthority = readFileSync(conn.caFile);
    } catch (err) {
      throw new EtError('E_USAGE', `cannot read --ca-file ${conn.caFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const api: Got = got.extend({
    prefixUrl: `${conn.baseUrl}/api/${conn.apiVersion}/`,
    agent,
    https: httpsOptions,
    timeout: { request: options.timeoutMs ?? 30_000 },
    // Only what is safe to repeat is retried: the search, the login, and the metadata PUT, which
    // writes whole values (merged lists included) and so is idempotent by design.
    retry: {
      limit: retries + 10,
      methods: ['GET', 'PUT', 'POST'],
      statusCodes: [408, 429, 500, 502, 503, 504],
      errorCodes: ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN'],
      calculateDelay: ({ attemptCount, error, retryAfter, computedValue }) => {
        if (computedValue === 0) return 0;
        if (error.response?.statusCode === 429) {
          stats.throttled++;
          throttle.onThrottled(retryAfter);
          return attemptCount > retries + 10 ? 0 : (retryAfter ?? backoff(attemptCount, retryBaseMs));
        }
        if (attemptCount > retries) return 0;
        return retryAfter ?? backoff(attemptCount, retryBaseMs);
      },
    },
    // metadata from the API never reaches an object prototype
    parseJson: (text: string) => JSON.parse(text, (key, value: unknown) => (key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value)),
    headers: { 'user-agent': 'et-import' },
    hooks: {
      beforeRequest: [
        async (req) => {
          await throttle.acquire();
          stats.requests++;
          // headers go through the logger's redaction (authorization is masked)
          if (log?.isLevelEnabled('trace')) log.trace({ method: req.method, path: pathOf(req.url), headers: { ...req.headers } }, 'request');
        },
      ],
      beforeRetry: [
        (error, retryCount) => {
          stats.retries++;
          log?.warn({ retry: retryCount, status: error.response?.statusCode, code: error.code, method: error.options.method, path: pathOf(error.options.url) }, 'retrying request');
        },
      ],
    },
  });

  let token: { header: string; expiresAt: number } | undefined;
  let loggingIn: Promise<void> | undefined;

  async function doLogin(): Promise<void> {
    stats.logins++;
    let res: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      res = await api.post('login/access-token', { form: { username: conn.username, password: conn.password } }).json();
    } catch (err) {
      if (err instanceof HTTPError && [400, 401, 403, 422].includes(err.response.statusCode)) {
        throw new ApiError('E_LOGIN', `login refused by ${conn.baseUrl} for user ${conn.username} (HTTP ${err.response.statusCode}): check ET_AUTH_KEY / ET_AUTH_SECRET`, { status: err.response.statusCode });
      }
      throw toApiError(err, 'POST', 'login/access-token', conn.baseUrl);
    }
    if (typeof res.access_token !== 'string' || res.access_token === '') throw new ApiError('E_LOGIN', `login at ${conn.baseUrl} answered without an access_token`);
    registerSecret(res.access_token);
    const type = typeof res.token_type === 'string' && res.token_type ? res.token_type : 'bearer';
    const ttlMs = typeof res.expires_in === 'number' && res.expires_in > 0 ? res.expires_in * 1000 : 3600_000;
    // A short-lived token is refreshed when a fifth of its life remains, a long one 60 s before.
    const margin = Math.min(REFRESH_MARGIN_MS, ttlMs / 5);
    token = { header: `${type} ${res.access_token}`, expiresAt: now() + ttlMs - margin };
    log?.debug({ expiresInSeconds: ttlMs / 1000 }, 'logged in');
  }

  function login(): Promise<void> {
    loggingIn ??= doLogin().finally(() => {
      loggingIn = undefined;
    });
    return loggingIn;
  }

  async function authHeader(): Promise<string> {
    if (!token || now() >= token.expiresAt) await login();
    return token!.header;
  }

  async function authed<T>(method: 'GET' | 'PUT', path: string, opts: OptionsOfJSONResponseBody): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const header = await authHeader();
      try {
        const send = method === 'GET' ? api.get : api.put;
        const request = send(path, { ...opts, headers: { authorization: header } });
        request.on('downloadProgress', (p) => {
          if (p.transferred > maxResponseBytes || (p.total ?? 0) > maxResponseBytes) request.cancel(`larger than ${maxResponseBytes} bytes`);
        });
        return (await request.json()) as T;
      } catch (err) {
        if (err instanceof HTTPError && err.response.statusCode === 401 && attempt === 0) {
          log?.info({ method, path: pathOf(path) }, 'token refused (401): logging in again');
          // only drop the token if no other request has already replaced it
          if (token?.header === header) token = undefined;
          continue;
        }
        throw toApiError(err, method, path, conn.baseUrl);
      }
    }
  }

  return {
    login,
    stats,
    async searchSessions(filters, skip, limit) {
      stats.searches++;
      const res = await authed<unknown>('GET', 'sessions', { searchParams: { filters, skip, limit } });
      if (typeof res !== 'object' || res === null || !Array.isArray((res as SearchPage).items)) {
        throw new ApiError('E_API', 'GET /sessions answered without an `items` list');
      }
      const page = res as SearchPage;
      return { total: typeof page.total === 'number' ? page.total : page.items.length, items: page.items.filter((i) => typeof i === 'object' && i !== null) };
    },
    async putMetadata(sessionId, body) {
      if (!isUuid(sessionId)) throw new ApiError('E_BAD_SESSION_ID', `refusing to write to session id ${JSON.stringify(String(sessionId).slice(0, 80))}: not a UUID`);
      stats.puts++;
      return authed('PUT', `sessions/${sessionId}/metadata`, { json: body });
    },
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

/** Exponential backoff with jitter: base, 2×base, 4×base... up to 10 s, each between 50 % and 100 %. */
export function backoff(attempt: number, baseMs: number): number {
  const full = Math.min(10_000, baseMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + Math.random() * (full / 2));
}

function pathOf(url: unknown): string {
  try {
    return url instanceof URL ? url.pathname : String(url);
  } catch {
    return '';
  }
}

const TLS_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED']);

/** got errors carry URLs and request options: keep only what is safe and useful. */
export function toApiError(err: unknown, method: string, path: string, baseUrl: string): ApiError {
  if (err instanceof ApiError) return err;
  const shown = `${method} /${path.split('?')[0]}`;
  if (err instanceof Error && err.name === 'CancelError') return new ApiError('E_API', `${shown} answered more than the response size limit; refused rather than buffered`);
  if (err instanceof HTTPError) {
    const status = err.response.statusCode;
    let detail = '';
    const body = err.response.body;
    if (typeof body === 'string' && body.length > 0) detail = `: ${scrub(body.slice(0, 200))}`;
    else if (body && typeof body === 'object') detail = `: ${scrub(JSON.stringify(body).slice(0, 200))}`;
    return new ApiError('E_HTTP', `${shown} answered HTTP ${status}${err.response.statusMessage ? ` ${err.response.statusMessage}` : ''}${detail}`, { status });
  }
  if (err instanceof RequestError) {
    const code = err.code;
    if (code && TLS_CODES.has(code)) {
      return new ApiError('E_API_UNREACHABLE', `${shown} failed: the TLS certificate of ${baseUrl} is not trusted (${code}); for a private CA use --ca-file or NODE_EXTRA_CA_CERTS (ET_SSL_VERIFY=false switches the check off)`);
    }
    const reason = code === 'ETIMEDOUT' ? 'timed out' : code && code !== 'ERR_GOT_REQUEST_ERROR' ? code : scrub(err.message);
    if (err.name === 'ParseError') return new ApiError('E_API', `${shown} answered something that is not JSON`);
    return new ApiError('E_API_UNREACHABLE', `${shown} failed: cannot reach ${baseUrl} (${reason})`);
  }
  return new ApiError('E_API', `${shown} failed: ${scrub((err as Error)?.message ?? String(err))}`);
}
