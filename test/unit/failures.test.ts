import { describe, expect, it } from 'vitest';
import { classifyFailure, statusFailure } from '../../src/api/failures.js';
import { ApiError } from '../../src/errors.js';

describe('classifyFailure: the one definition of "the API failed"', () => {
  it('408 and 5xx: retried, the API failed, and it did not answer', () => {
    for (const s of [408, 500, 502, 503, 504]) expect(statusFailure(s)).toEqual({ retryable: true, transport: true, answered: false });
    expect(statusFailure(501)).toEqual({ retryable: false, transport: true, answered: false });
  });
  it('429: retried and the API failed the row, but it answered (slow down is not down)', () => {
    expect(statusFailure(429)).toEqual({ retryable: true, transport: true, answered: true });
  });
  it('other 4xx: the row, not the API', () => {
    for (const s of [400, 401, 403, 404, 409, 422]) expect(statusFailure(s)).toEqual({ retryable: false, transport: false, answered: true });
  });
  it('errors of the client by their code; a 413 and a redirect are answers about the row', () => {
    expect(classifyFailure(new ApiError('E_TIMEOUT', 't'))).toEqual({ retryable: true, transport: true, answered: false });
    expect(classifyFailure(new ApiError('E_API_UNREACHABLE', 'u', { cause: { code: 'ECONNRESET' } }))).toEqual({
      retryable: true,
      transport: true,
      answered: false,
    });
    // an untrusted certificate does not heal in a moment
    expect(classifyFailure(new ApiError('E_API_UNREACHABLE', 'u', { cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN' } }))).toEqual({
      retryable: false,
      transport: true,
      answered: false,
    });
    expect(classifyFailure(new ApiError('E_HTTP', 'h', { status: 503 }))).toEqual(statusFailure(503));
    expect(classifyFailure(new ApiError('E_TOO_LARGE', 'l', { status: 413 }))).toEqual({ retryable: false, transport: false, answered: true });
    expect(classifyFailure(new ApiError('E_REDIRECT', 'r', { status: 302 }))).toEqual({ retryable: false, transport: false, answered: true });
    expect(classifyFailure(new Error('a bug'))).toEqual({ retryable: false, transport: false, answered: true });
  });
});
