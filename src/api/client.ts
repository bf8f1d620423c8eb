import http from 'node:http';
import https from 'node:https';
import type { CancelableRequest, Got, OptionsInit, Response } from 'got';
import { ApiError } from '../errors.js';
import type { Logger } from '../logger.js';
import { registerSecret } from '../redact.js';
import type { Connection } from './connection.js';
import { classifyFailure, httpError, parseAnswer, redirectError, statusFailure, transportError, type Answer, type Call, type Endpoint } from './failures.js';
import { EXTRA_429_TRIES, backoff, interrupted, parseRetryAfter, sleep } from './retry.js';
import { countListedObjects, isUuid } from './sessions.js';
import { createGot } from './http.js';
import { RetryNotes } from './retry-notes.js';
import { Throttle } from './throttle.js';
import type { ApiClient, ApiStats, ClientOptions, SearchPage } from './client-types.js';

export { backoff, type ApiClient, type ApiStats, type ClientOptions, type SearchPage };

/** Refresh a token when less than this much of its life remains (the SDK uses 60 s). */
const REFRESH_MARGIN_MS = 60_000;
/** Logins forced by a refused token within a minute before the run gives up: the token lacks a right. */
const MAX_FORCED_LOGINS_PER_MINUTE = 5;

/**
 * The Ender Turing client: logs in by form POST, sends `Authorization: <type> <token>`,
 * refreshes the token before it expires and once on a 401, keeps connections alive, retries
 * what is safe to repeat, and never follows a redirect (the form or the token would go with it).
 */
export function createClient(conn: Connection, options: ClientOptions): ApiClient {
  return new EtClient(conn, options);
}

class EtClient implements ApiClient {
  readonly stats: ApiStats = { requests: 0, searches: 0, puts: 0, logins: 0, retries: 0, throttled: 0, dryRunPuts: 0, listings: 0 };
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly agent: { http: http.Agent; https: https.Agent };
  private readonly throttle: Throttle;
  private notes: RetryNotes | undefined;
  private readonly api: Got;
  private token: { header: string; expiresAt: number } | undefined;
  private loggingIn: Promise<void> | undefined;
  /** Requests on the wire by the signal that cancels them. */
  private readonly live = new Map<AbortSignal, Set<CancelableRequest<unknown>>>();
  /** When tokens were refused (401), for the per-minute bound on forced logins. */
  private readonly forced: number[] = [];

  constructor(
    private readonly conn: Connection,
    private readonly o: ClientOptions,
  ) {
    this.now = o.now ?? Date.now;
    this.log = o.logger;
    this.agent = {
      http: new http.Agent({ keepAlive: true, maxSockets: this.o.maxSockets }),
      https: new https.Agent({ keepAlive: true, maxSockets: this.o.maxSockets }),
    };
    this.throttle = new Throttle(o.rate ?? Infinity);
    this.api = createGot(conn, this.agent, this.o.timeoutMs);
  }

  login(retries = this.o.retries): Promise<void> {
    this.loggingIn ??= this.doLogin(retries).finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  async listSessions(filters: string, skip: number, limit: number): Promise<SearchPage> {
    this.stats.listings++;
    return this.getSessions('listing', filters, skip, limit, undefined);
  }

  async searchSessions(filters: string, skip: number, limit: number, maxItems?: number): Promise<SearchPage> {
    this.stats.searches++;
    return this.getSessions('search', filters, skip, limit, maxItems);
  }

  private async getSessions(endpoint: Endpoint, filters: string, skip: number, limit: number, maxItems: number | undefined): Promise<SearchPage> {
    const answer = await this.exchange(
      { endpoint, method: 'GET', path: 'sessions', searchParams: { filters, skip, limit }, auth: true, retries: this.o.retries },
      this.o.cancelSignal,
    );
    // a page of more than maxItems sessions takes at least 2 characters each: only a body that long is counted
    if (maxItems !== undefined && answer.body.length > maxItems * 2 && countListedObjects(answer.body, maxItems + 1) > maxItems) {
      throw new ApiError(
        'E_TOO_MANY_CANDIDATES',
        `GET /sessions answered more than ${maxItems} sessions for one key (--max-candidates); use a more specific key`,
      );
    }
    const res = parseAnswer(answer, 'GET /sessions');
    if (typeof res !== 'object' || res === null || !Array.isArray((res as SearchPage).items))
      throw new ApiError('E_API', 'GET /sessions answered without an `items` list');
    const page = res as SearchPage;
    return {
      total: typeof page.total === 'number' ? page.total : page.items.length,
      items: page.items.filter((i) => typeof i === 'object' && i !== null && !Array.isArray(i)),
    };
  }

  async putMetadata(sessionId: string, body: Record<string, unknown>, json = JSON.stringify(body)): Promise<void> {
    if (!isUuid(sessionId))
      throw new ApiError('E_BAD_SESSION_ID', `refusing to write to session id ${JSON.stringify(String(sessionId).slice(0, 80))}: not a UUID`);
    const size = Buffer.byteLength(json);
    if (size > this.o.maxBodyBytes)
      throw new ApiError(
        'E_TOO_LARGE',
        `the metadata body would be ${Math.ceil(size / 1024)} KB, more than --max-body-kb ${Math.floor(this.o.maxBodyBytes / 1024)}; not sent`,
      );
    this.stats.puts++;
    await this.exchange(
      { endpoint: 'put', method: 'PUT', path: `sessions/${sessionId}/metadata`, json, auth: true, retries: this.o.retries },
      this.o.cancelSignal,
    );
  }

  close(): void {
    this.notes?.tell();
    this.agent.http.destroy();
    this.agent.https.destroy();
  }

  /** One HTTP exchange, as it went: an answer of any status, or a transport error. */
  private async once(call: Call, authorization: string | undefined, signal: AbortSignal | undefined): Promise<Answer> {
    // built field by field: got merges every option it is given with the instance's, a request each
    const options: OptionsInit = { method: call.method };
    if (call.searchParams) options.searchParams = call.searchParams;
    if (call.form) options.form = call.form;
    if (call.json !== undefined) {
      // serialized once, by the caller, who also measured it
      options.body = call.json;
      options.headers = authorization ? { authorization, 'content-type': 'application/json' } : { 'content-type': 'application/json' };
    } else if (authorization) options.headers = { authorization };
    if (signal?.aborted) throw interrupted();
    // a signal cancels the requests it watches (got's own `signal` option costs a listener a request)
    const live = signal && this.watched(signal);
    let req: CancelableRequest<Response<string>> | undefined;
    const started = performance.now();
    try {
      const request = this.api(call.path, options) as CancelableRequest<Response<string>>;
      req = request;
      live?.add(request);
      // the first event tells the declared length, before any of the body is read
      request.on('downloadProgress', (p) => {
        if (p.transferred > this.o.maxResponseBytes || (p.total ?? 0) > this.o.maxResponseBytes) request.cancel('too large');
      });
      const res = await request;
      this.o.onTimed?.(call.endpoint, res.statusCode, performance.now() - started);
      return { status: res.statusCode, body: res.body, headers: res.headers };
    } catch (e) {
      this.o.onTimed?.(call.endpoint, 0, performance.now() - started);
      if (signal?.aborted) throw interrupted(e);
      throw transportError(e, `${call.method} /${call.path}`, this.conn.baseUrl, `${this.o.timeoutMs / 1000} s`);
    } finally {
      if (req) live?.delete(req);
    }
  }

  /** The requests on the wire that `signal` cancels. */
  private watched(signal: AbortSignal): Set<CancelableRequest<unknown>> {
    let live = this.live.get(signal);
    if (!live) {
      const requests = new Set<CancelableRequest<unknown>>();
      signal.addEventListener(
        'abort',
        () => {
          for (const r of requests) r.cancel();
        },
        { once: true },
      );
      live = requests;
      this.live.set(signal, live);
    }
    return live;
  }

  /** One request with its retries and (for `auth` calls) one re-login on a 401. */
  private async exchange(call: Call, signal: AbortSignal | undefined): Promise<Answer> {
    let refused = false;
    for (let attempt = 1; ; attempt++) {
      const turn = this.throttle.acquire(this.o.stopSignal);
      if (turn) await turn;
      const header = call.auth ? (this.validToken() ?? (await this.authHeader())) : undefined;
      this.stats.requests++;
      if (this.log?.isLevelEnabled('trace')) this.log.trace({ method: call.method, path: call.path }, 'request');
      let answer: Answer;
      try {
        answer = await this.once(call, header, signal);
      } catch (e) {
        const error = e as ApiError;
        if (error.code === 'E_INTERRUPTED') throw error;
        const failure = classifyFailure(error);
        this.o.onRequest?.(failure.answered);
        if (!failure.retryable || attempt > call.retries) throw error;
        await this.retryWait(call, attempt, undefined, error.message);
        continue;
      }
      const status = answer.status;
      this.throttle.advise(answer.headers, status);
      const failure = status >= 200 && status < 300 ? undefined : statusFailure(status);
      this.o.onRequest?.(failure?.answered ?? true);
      if (status === 429) {
        await this.onThrottled(call, attempt, answer);
        continue;
      }
      if (status >= 200 && status < 300) return answer;
      if (status >= 300 && status < 400) throw redirectError(call, answer);
      if (status === 401 && call.auth) {
        if (refused)
          throw new ApiError(
            'E_LOGIN',
            `${call.method} /${call.path} was refused (HTTP 401) with a token issued moments before: user ${this.conn.username} lacks the right to do this at ${this.conn.baseUrl}`,
            { status },
          );
        refused = true;
        this.forgetToken(header!);
        attempt--;
        continue;
      }
      if (!failure?.retryable || attempt > call.retries) throw httpError(call, answer);
      await this.retryWait(call, attempt, parseRetryAfter(answer.headers['retry-after']), `HTTP ${status}`);
    }
  }

  /** A 429 slows the whole run and is retried, with 10 more tries than other failures. */
  private async onThrottled(call: Call, attempt: number, answer: Answer): Promise<void> {
    this.stats.throttled++;
    const retryAfter = parseRetryAfter(answer.headers['retry-after']);
    this.throttle.onThrottled(retryAfter);
    if (attempt > call.retries + EXTRA_429_TRIES) throw httpError(call, answer);
    await this.retryWait(call, attempt, retryAfter, 'HTTP 429');
  }

  private async retryWait(call: Call, attempt: number, retryAfter: number | undefined, why: string): Promise<void> {
    this.stats.retries++;
    const ms = Math.min(retryAfter ?? backoff(attempt, this.o.retryBaseMs), 60_000);
    this.notes ??= new RetryNotes(this.log, this.now);
    this.notes.note({ retry: attempt, method: call.method, path: call.path.split('/')[0], reason: why, delayMs: ms }, why);
    await sleep(ms, this.o.stopSignal);
  }

  private forgetToken(header: string): void {
    // only drop the token if no other request has already replaced it
    if (this.token?.header !== header) return;
    this.token = undefined;
    const t = this.now();
    this.forced.push(t);
    while (this.forced.length > 0 && this.forced[0]! < t - 60_000) this.forced.shift();
    const many = `the API refused ${this.forced.length} tokens within a minute (HTTP 401): user ${this.conn.username} cannot work at ${this.conn.baseUrl}`;
    if (this.forced.length > MAX_FORCED_LOGINS_PER_MINUTE) throw new ApiError('E_LOGIN', many, { status: 401 });
    this.log?.info('token refused (401): logging in again');
  }

  private async doLogin(retries: number): Promise<void> {
    this.stats.logins++;
    const conn = this.conn;
    let answer: Answer;
    try {
      answer = await this.exchange(
        { endpoint: 'login', method: 'POST', path: 'login/access-token', form: { username: conn.username, password: conn.password }, auth: false, retries },
        this.o.stopSignal,
      );
    } catch (e) {
      const error = e as ApiError;
      if (error.status !== undefined && [400, 401, 403, 422].includes(error.status)) {
        throw new ApiError('E_LOGIN', `login refused by ${conn.baseUrl} for user ${conn.username} (HTTP ${error.status}): check ET_AUTH_KEY / ET_AUTH_SECRET`, {
          status: error.status,
          cause: e,
        });
      }
      if (error.code === 'E_REDIRECT')
        throw new ApiError('E_LOGIN', `login failed: ${error.message}; the password is sent nowhere but ${conn.baseUrl} (check ET_URL)`, {
          status: error.status,
          cause: e,
        });
      throw e;
    }
    const res = parseAnswer(answer, 'POST /login/access-token') as { access_token?: unknown; token_type?: unknown; expires_in?: unknown } | null;
    if (typeof res?.access_token !== 'string' || res.access_token === '')
      throw new ApiError('E_LOGIN', `login at ${conn.baseUrl} answered without an access_token`);
    registerSecret(res.access_token);
    const type = typeof res.token_type === 'string' && res.token_type ? res.token_type : 'bearer';
    const ttlMs = typeof res.expires_in === 'number' && res.expires_in > 0 ? res.expires_in * 1000 : 3600_000;
    // A short-lived token is refreshed when a fifth of its life remains, a long one 60 s before.
    const margin = Math.min(REFRESH_MARGIN_MS, ttlMs / 5);
    this.token = { header: `${type} ${res.access_token}`, expiresAt: this.now() + ttlMs - margin };
    this.log?.debug({ expiresInSeconds: ttlMs / 1000 }, 'logged in');
  }

  /** The token's header while it is good to use. */
  private validToken(): string | undefined {
    return this.token && this.now() < this.token.expiresAt ? this.token.header : undefined;
  }

  private async authHeader(): Promise<string> {
    while (!this.token || this.now() >= this.token.expiresAt) await this.login();
    return this.token.header;
  }
}
