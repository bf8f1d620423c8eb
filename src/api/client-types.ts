import type { Logger } from '../logger.js';

/** What the client is to its callers: its options, its calls, its answers and its counts. */

/**
 * What the client needs to be told: the run resolves every value (run/option-table.ts holds the
 * only defaults), so none is guessed here.
 */
export interface ClientOptions {
  /** Sockets kept per host; at least the run's concurrency. */
  maxSockets: number;
  timeoutMs: number;
  /** Retries of a request that failed with a retryable status or network error (429s get 10 more). */
  retries: number;
  /** First retry delay in ms; doubled each time, with jitter, up to 10 s. */
  retryBaseMs: number;
  /** Requests per second across the run (no cap until the API answers 429). */
  rate?: number;
  /** Answers larger than this many bytes are refused rather than buffered. */
  maxResponseBytes: number;
  /** Metadata bodies larger than this many bytes are refused before sending. */
  maxBodyBytes: number;
  logger?: Logger;
  /** For tests: the clock. */
  now?: () => number;
  /** Ends every wait at once (retry sleeps, throttle, a login): the run is stopping. */
  stopSignal?: AbortSignal;
  /** Cancels requests on the wire (the stop timeout ran out, or the run stops as fatal). */
  cancelSignal?: AbortSignal;
  /** Told of every exchange's time on the wire, by endpoint, with its status (0: no answer). */
  onTimed?: (endpoint: 'login' | 'search' | 'listing' | 'put', status: number, ms: number) => void;
  /** Told of every exchange: whether the API answered (failures.ts `answered`: not a network error, a timeout, a 5xx or a 408). */
  onRequest?: (answered: boolean) => void;
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
  /** Dry runs: the PUTs a real run would have sent. */
  dryRunPuts: number;
  /** Index mode: pages of a date window's listing. */
  listings: number;
}

export interface ApiClient {
  /** Logs in; `retries` overrides the client's (a first login fails fast on a wrong URL). */
  login(retries?: number): Promise<void>;
  /** One page of GET /sessions; refuses a page of more than `maxItems` sessions before parsing it. */
  searchSessions(filters: string, skip: number, limit: number, maxItems?: number): Promise<SearchPage>;
  /** `json` is the body's JSON text, when the caller has it already. */
  putMetadata(sessionId: string, body: Record<string, unknown>, json?: string): Promise<void>;
  /** One page of a listing (index mode): counted apart from the searches. */
  listSessions(filters: string, skip: number, limit: number): Promise<SearchPage>;
  readonly stats: ApiStats;
  close(): void;
}
