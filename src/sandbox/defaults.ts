import type { SandboxSession } from './store.js';

/** The sandbox's login when none is given: a module of its own, so that the CLI's options need not load the server. */
export interface SandboxUser {
  username: string;
  password: string;
}

export const DEFAULT_USER: SandboxUser = { username: 'demo@example.com', password: 'demo-password' };

export interface SandboxOptions {
  sessions?: SandboxSession[];
  users?: SandboxUser[];
  /** Token lifetime in seconds (default 3600). */
  tokenTtlSeconds?: number;
  /** Largest page GET /sessions answers; a larger `limit` is capped, as the real API does (default 100). */
  maxPageSize?: number;
  /** Added before every API answer, ms (default 0). */
  latencyMs?: number;
  apiVersion?: string;
  /** Requests kept for GET /admin/requests (default 10,000). */
  requestLogSize?: number;
  /** Fraction of API requests answered 500, 502 or 503 (default 0). */
  failRate?: number;
  /** Fraction of API requests whose connection is dropped without an answer (default 0). */
  dropRate?: number;
  /** Requests per second accepted; more are answered 429 with Retry-After (default: no cap). */
  rateLimit?: number;
  /** With a rate limit, send the IETF RateLimit-Policy/-Limit/-Remaining/-Reset headers on every answer (default true). */
  rateHeaders?: boolean;
  /**
   * Requests in flight the server serves at full speed; beyond them each answer's latency grows in
   * proportion (twice the capacity in flight: twice as slow), as a loaded server's does (default: none).
   */
  capacity?: number;
  /** Seed of the random faults, so a bad night can be replayed (default 1). */
  seed?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Called in-process after each PUT is applied, before its answer: a second writer that changes
   * the session right after this one (for tests of what another client's writes survive).
   */
  afterWrite?: (id: string, metadata: Record<string, unknown>) => void;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  body?: unknown;
}

export interface SandboxStats {
  requests: Record<string, number>;
  putsPerSession: Record<string, number>;
  logins: number;
  overlappingWrites: number;
  peakInFlight: number;
  /** The most an answer was slowed by `capacity` (in flight / capacity; 1: never). */
  peakLoad: number;
}

/**
 * A local stand-in for the Ender Turing API, following what the public reference says:
 * form login with expiring tokens, a loose `search_query` search with paging, PUT metadata that
 * replaces the keys it is given and keeps the others. Admin endpoints (no auth, under /admin)
 * load sessions and read them back, and count what clients did.
 */
