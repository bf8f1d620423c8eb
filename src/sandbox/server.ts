import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin.js';
import { emptyStats, mulberry32, readBody, routeName, safeEqual, send, sleep, UUID } from './http.js';
import { searchSessions } from './search.js';
import { SessionStore } from './store.js';
import { DEFAULT_USER, type RequestRecord, type SandboxOptions, type SandboxStats, type SandboxUser } from './defaults.js';

export { DEFAULT_USER, type SandboxUser };
export type { RequestRecord, SandboxOptions, SandboxStats };

export class Sandbox {
  readonly store: SessionStore;
  readonly options: Required<Omit<SandboxOptions, 'sessions' | 'tls' | 'afterWrite'>>;
  private readonly tls: SandboxOptions['tls'];
  private server: Server | undefined;
  private tokens = new Map<string, number>();
  private log: RequestRecord[] = [];
  private writing = new Map<string, number>();
  private inFlight = 0;
  private random: () => number;
  /** Start times of the API requests of the last second, for the rate cap. */
  private window: number[] = [];
  stats: SandboxStats = emptyStats();
  /** Every token handed out (the last 10,000), so tests can check none of them leaks. */
  readonly issuedTokens: string[] = [];

  /** See SandboxOptions.afterWrite; may be set after the sandbox starts. */
  afterWrite: SandboxOptions['afterWrite'];

  constructor(options: SandboxOptions = {}) {
    this.store = new SessionStore(options.sessions ?? []);
    this.afterWrite = options.afterWrite;
    this.options = {
      users: options.users ?? [DEFAULT_USER],
      tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
      maxPageSize: options.maxPageSize ?? 100,
      latencyMs: options.latencyMs ?? 0,
      apiVersion: options.apiVersion ?? 'v1',
      requestLogSize: options.requestLogSize ?? 10_000,
      failRate: options.failRate ?? 0,
      dropRate: options.dropRate ?? 0,
      rateLimit: options.rateLimit ?? 0,
      capacity: options.capacity ?? 0,
      rateHeaders: options.rateHeaders ?? true,
      seed: options.seed ?? 1,
    };
    this.random = mulberry32(this.options.seed);
    this.tls = options.tls;
  }

  /** Starts listening; port 0 picks a free port. Resolves to the base URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, { detail: `sandbox error: ${(err as Error).message}` });
      });
    };
    const server: Server = this.tls ? createTlsServer(this.tls, handler) : createServer(handler);
    server.keepAliveTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('sandbox is not listening');
    return `${this.tls ? 'https' : 'http'}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Invalidates every issued token: the next API call of each client gets a 401. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  requests(): RequestRecord[] {
    return this.log;
  }

  resetStats(): void {
    this.log = [];
    this.stats = emptyStats();
  }

  private record(req: IncomingMessage, path: string, query: URLSearchParams, status: number, body?: unknown): void {
    const key = `${req.method} ${routeName(path)} ${status || 'dropped'}`;
    this.stats.requests[key] = (this.stats.requests[key] ?? 0) + 1;
    const rec: RequestRecord = { method: req.method ?? '', path, query: Object.fromEntries(query), status };
    if (body !== undefined) rec.body = body;
    this.log.push(rec);
    if (this.log.length > this.options.requestLogSize) this.log.splice(0, this.log.length - this.options.requestLogSize);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    if (path.startsWith('/admin/')) return handleAdmin(this, req, res, path, url.searchParams);

    this.inFlight++;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight);
    try {
      // beyond its capacity, a loaded server answers each request later in proportion to its load
      const load = this.options.capacity > 0 ? Math.max(1, this.inFlight / this.options.capacity) : 1;
      this.stats.peakLoad = Math.max(this.stats.peakLoad, load);
      if (this.options.latencyMs > 0) await sleep(this.options.latencyMs * load);
      const prefix = `/api/${this.options.apiVersion}`;
      const route = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
      const reply: Reply = (status, body, logged) => {
        this.record(req, path, url.searchParams, status, logged);
        send(res, status, body, { ...(status === 429 && { 'retry-after': '1' }), ...this.rateHeaders() });
      };

      if (await this.injectFault(req, res, path, url.searchParams, reply)) return;
      if (route === '/login/access-token' && req.method === 'POST') return await this.login(req, reply);
      if (route === undefined || !(route === '/sessions' || /^\/sessions\/[^/]+\/metadata$/.test(route))) {
        await readBody(req).catch(() => undefined);
        return reply(404, { detail: 'Not Found' });
      }
      if (!this.authorized(req)) {
        await readBody(req).catch(() => undefined);
        return reply(401, { detail: 'Could not validate credentials' });
      }
      if (route === '/sessions' && req.method === 'GET') {
        const result = searchSessions(this.store, url.searchParams, this.options.maxPageSize);
        return 'error' in result ? reply(422, { detail: result.error }) : reply(200, result);
      }
      const m = /^\/sessions\/([^/]+)\/metadata$/.exec(route);
      if (m && req.method === 'PUT') return await this.putMetadata(req, decodeURIComponent(m[1]!), reply);
      return reply(405, { detail: 'Method Not Allowed' });
    } finally {
      this.inFlight--;
    }
  }

  /** With a rate limit, the IETF RateLimit headers on every answer: the policy (N a second), what is left of this second, when it resets. */
  private rateHeaders(): Record<string, string> {
    if (this.options.rateLimit <= 0 || !this.options.rateHeaders) return {};
    const left = Math.max(0, this.options.rateLimit - this.window.length);
    return {
      'ratelimit-policy': `${this.options.rateLimit};w=1`,
      'ratelimit-limit': String(this.options.rateLimit),
      'ratelimit-remaining': String(left),
      'ratelimit-reset': '1',
    };
  }

  /** A bad night, on request: a rate cap, server errors, dropped connections. True when it answered. */
  private async injectFault(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, reply: Reply): Promise<boolean> {
    if (this.options.rateLimit > 0) {
      const now = Date.now();
      while (this.window.length > 0 && this.window[0]! <= now - 1000) this.window.shift();
      if (this.window.length >= this.options.rateLimit) {
        await readBody(req).catch(() => undefined);
        reply(429, { detail: 'Too Many Requests' });
        return true;
      }
      this.window.push(now);
    }
    if (this.options.failRate > 0 && this.random() < this.options.failRate) {
      await readBody(req).catch(() => undefined);
      reply([500, 502, 503][Math.floor(this.random() * 3)]!, { detail: 'injected server error' });
      return true;
    }
    // a dropped connection comes before the write half the time and after it the other half
    const drop = this.options.dropRate > 0 && this.random() < this.options.dropRate ? (this.random() < 0.5 ? 'before' : 'after') : undefined;
    if (drop === 'before') {
      this.record(req, path, query, 0);
      req.socket.destroy();
      return true;
    }
    if (drop === 'after') {
      res.writeHead = (() => res) as never;
      res.end = (() => {
        this.stats.requests[`${req.method} ${routeName(path)} dropped`] = (this.stats.requests[`${req.method} ${routeName(path)} dropped`] ?? 0) + 1;
        req.socket.destroy();
        return res;
      }) as never;
    }
    return false;
  }

  private async login(req: IncomingMessage, reply: Reply): Promise<void> {
    const type = req.headers['content-type'] ?? '';
    const raw = await readBody(req);
    if (!type.startsWith('application/x-www-form-urlencoded'))
      return reply(422, { detail: 'expected a form-encoded body (application/x-www-form-urlencoded)' });
    const form = new URLSearchParams(raw.toString('utf8'));
    const user = this.options.users.find((u) => u.username === form.get('username') && safeEqual(u.password, form.get('password') ?? ''));
    if (!user) return reply(400, { detail: 'Incorrect email or password' });
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, Date.now() + this.options.tokenTtlSeconds * 1000);
    this.issuedTokens.push(token);
    if (this.issuedTokens.length > 10_000) this.issuedTokens.shift();
    this.stats.logins++;
    return reply(200, { access_token: token, token_type: 'bearer', expires_in: this.options.tokenTtlSeconds });
  }

  private async putMetadata(req: IncomingMessage, id: string, reply: Reply): Promise<void> {
    const raw = await readBody(req);
    if (!UUID.test(id)) return reply(422, { detail: `session_id: value is not a valid uuid` });
    const session = this.store.get(id);
    if (!session) return reply(404, { detail: 'Session not found' });
    // a session marked locked refuses writes, so users can rehearse a row that fails
    if (session.locked === true) return reply(403, { detail: 'Session is locked and its metadata cannot be changed' });
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return reply(422, { detail: 'body is not valid JSON' });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return reply(422, { detail: 'body must be a JSON object' });
    return this.write(id, async () => {
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
        session.metadata[k] = v;
      }
      this.stats.putsPerSession[id] = (this.stats.putsPerSession[id] ?? 0) + 1;
      this.afterWrite?.(id, session.metadata);
      reply(200, session.metadata, body);
    });
  }

  /** Counts a write that starts while another write to the same session is still in progress. */
  private async write(id: string, fn: () => Promise<void>): Promise<void> {
    const n = this.writing.get(id) ?? 0;
    if (n > 0) this.stats.overlappingWrites++;
    this.writing.set(id, n + 1);
    try {
      // hold the write open a moment so that overlapping writers can be seen
      await sleep(1);
      await fn();
    } finally {
      const left = (this.writing.get(id) ?? 1) - 1;
      if (left === 0) this.writing.delete(id);
      else this.writing.set(id, left);
    }
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const m = /^bearer\s+(\S+)$/i.exec(header);
    if (!m) return false;
    const expires = this.tokens.get(m[1]!);
    if (expires === undefined) return false;
    if (Date.now() >= expires) {
      this.tokens.delete(m[1]!);
      return false;
    }
    return true;
  }
}

type Reply = (status: number, body: unknown, logged?: unknown) => void;

export { parseSessions, type SandboxSeed } from './http.js';
