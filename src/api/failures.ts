import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../errors.js';
import { snippet } from '../redact.js';
import { parseJsonSafe } from './json.js';
import { interrupted } from './retry.js';

/** How the client's answers and failures become values and errors with a code. */

/** What a request is for: how its latency and counts are reported. */
export type Endpoint = 'login' | 'search' | 'listing' | 'put';

export interface Call {
  endpoint: Endpoint;
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  searchParams?: Record<string, string | number>;
  /** A JSON body, as text. */
  json?: string;
  form?: Record<string, string>;
  auth: boolean;
  retries: number;
}

export interface Answer {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** Network errors worth another try (a TLS certificate that is not trusted is not one). */
const RETRY_CODES = new Set([
  'ETIMEDOUT',
  'ECONNRESET',
  'EADDRINUSE',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
]);
/** Statuses worth another try: the server may answer differently in a moment. */
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/**
 * What a failed exchange says, the one definition the client (retries), the stop rules (the
 * circuit: `answered`) and the rows (`transport` failures count toward the circuit breaker) use:
 * - `retryable`: another try may go otherwise: 408, 429, 500, 502, 503, 504, a timeout, a network
 *   error other than an untrusted certificate;
 * - `transport`: the API, not the row, failed: unreachable, timed out, 408, 429, 5xx;
 * - `answered`: the API is alive and said something: every status but 408 and 5xx (a 429 is an
 *   answer: "slow down", not "down"); never a network error or a timeout.
 */
export interface Failure {
  retryable: boolean;
  transport: boolean;
  answered: boolean;
}

export function statusFailure(status: number): Failure {
  const silent = status === 408 || status >= 500;
  return { retryable: RETRY_STATUSES.has(status), transport: silent || status === 429, answered: !silent };
}

/** The failure an error of the client stands for (an HTTP error by its status). */
export function classifyFailure(e: unknown): Failure {
  if (!(e instanceof ApiError)) return { retryable: false, transport: false, answered: true };
  if (e.code === 'E_TIMEOUT') return { retryable: true, transport: true, answered: false };
  if (e.code === 'E_API_UNREACHABLE')
    return { retryable: RETRY_CODES.has(String((e.cause as { code?: unknown } | undefined)?.code)), transport: true, answered: false };
  if (e.status !== undefined && e.code !== 'E_TOO_LARGE' && e.code !== 'E_REDIRECT') return statusFailure(e.status);
  return { retryable: false, transport: false, answered: true };
}

export function parseAnswer(answer: Answer, shown: string): unknown {
  try {
    return parseJsonSafe(answer.body);
  } catch (e) {
    throw new ApiError('E_API', `${shown} answered something that is not JSON (HTTP ${answer.status}: ${snippet(answer.body, 80)})`, {
      cause: e,
      status: answer.status,
    });
  }
}

function statusLine(answer: Answer): string {
  return `HTTP ${answer.status}${http.STATUS_CODES[answer.status] ? ` ${http.STATUS_CODES[answer.status]}` : ''}`;
}

export function httpError(call: Call, answer: Answer): ApiError {
  const body = snippet(answer.body);
  const code = answer.status === 413 ? 'E_TOO_LARGE' : 'E_HTTP';
  return new ApiError(code, `${call.method} /${call.path.split('?')[0]} answered ${statusLine(answer)}${body ? `: ${body}` : ''}`, { status: answer.status });
}

export function redirectError(call: Call, answer: Answer): ApiError {
  let where = 'nowhere (no Location)';
  const loc = answer.headers.location;
  if (loc) {
    try {
      where = `host ${new URL(loc, 'http://same-host.invalid').host.replace('same-host.invalid', 'the same host')}`;
    } catch {
      where = 'an unreadable Location';
    }
  }
  return new ApiError(
    'E_REDIRECT',
    `${call.method} /${call.path.split('/')[0]}${call.path.includes('/') ? '/...' : ''} answered ${statusLine(answer)} redirecting to ${where}: not followed (ET_URL must be the API's own address)`,
    { status: answer.status },
  );
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

/** got errors carry URLs and request options: keep only what is safe and useful, and the cause. */
export function transportError(e: unknown, shown: string, baseUrl: string, timeout: string): ApiError {
  if (e instanceof ApiError) return e;
  const err = e as { name?: string; code?: string; message?: string };
  if (err.name === 'AbortError') return interrupted(e);
  if (err.name === 'CancelError')
    return new ApiError('E_TOO_LARGE', `${shown} answered more than the response size limit (--max-response-mb); refused rather than buffered`, { cause: e });
  const code = err.code;
  if (err.name === 'TimeoutError' || code === 'ETIMEDOUT')
    return new ApiError('E_TIMEOUT', `${shown} timed out: no complete answer from ${baseUrl} within ${timeout} (--timeout)`, { cause: e });
  if (code && TLS_CODES.has(code)) {
    return new ApiError(
      'E_API_UNREACHABLE',
      `${shown} failed: the TLS certificate of ${baseUrl} is not trusted (${code}); for a private CA use --ca-file or NODE_EXTRA_CA_CERTS (ET_SSL_VERIFY=false switches the check off)`,
      { cause: e },
    );
  }
  const reason = code && code !== 'ERR_GOT_REQUEST_ERROR' ? code : 'connection failed';
  if (err.name === 'RequestError' || err.name === 'ReadError' || code)
    return new ApiError('E_API_UNREACHABLE', `${shown} failed: cannot reach ${baseUrl} (${reason})`, { cause: e });
  return new ApiError('E_API', `${shown} failed: ${err.message ?? String(e)}`, { cause: e });
}
