import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiClient, type ClientOptions, createClient } from '../../src/api/client.js';
import type { Connection } from '../../src/api/connection.js';
import type { ApiError } from '../../src/errors.js';

const SESSION = '0b7e6c3c-5a51-4f1e-9d0e-2f3c4b5a6d7e';
const PASSWORD = 'unit-client-password';

interface Seen {
  method: string;
  path: string;
  authorization?: string;
  body: string;
}
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * A server on port 0 that answers each request with the next scripted answer for its route
 * (`POST login`, `GET sessions`, `PUT metadata`), or 200 with a default, and records what it saw.
 */
async function scripted(script: Partial<Record<'login' | 'search' | 'put', Answer[]>>) {
  const seen: Seen[] = [];
  let tokens = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      seen.push({ method: req.method!, path, authorization: req.headers.authorization, body });
      const route = path.endsWith('/login/access-token') ? 'login' : req.method === 'PUT' ? 'put' : 'search';
      const next = script[route]?.shift();
      const fallback = (): Answer =>
        route === 'login'
          ? { status: 200, body: { access_token: `token-${++tokens}`, token_type: 'bearer', expires_in: 3600 } }
          : route === 'search'
            ? { status: 200, body: { total: 1, items: [{ id: SESSION }] } }
            : { status: 200, body: {} };
      const a = next ?? fallback();
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function clientFor(script: Parameters<typeof scripted>[0], options: Partial<ClientOptions> = {}) {
  const server = await scripted(script);
  const conn: Connection = { baseUrl: server.url, apiVersion: 'v1', username: 'unit@example.com', password: PASSWORD, sslVerify: true };
  const client: ApiClient = createClient(conn, {
    maxSockets: 4,
    timeoutMs: 5_000,
    retries: 3,
    retryBaseMs: 1,
    maxResponseBytes: 1024 * 1024,
    maxBodyBytes: 1024,
    ...options,
  });
  open.push(server, client);
  return { client, server };
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected the call to fail');
}

describe('the API client', () => {
  it('logs in once with a form, then sends the bearer token on every call', async () => {
    const { client, server } = await clientFor({});
    expect(await client.searchSessions('search_query,CALL-1', 0, 50)).toEqual({ total: 1, items: [{ id: SESSION }] });
    await client.putMetadata(SESSION, { csi: 4 });
    expect(server.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /api/v1/login/access-token',
      'GET /api/v1/sessions',
      `PUT /api/v1/sessions/${SESSION}/metadata`,
    ]);
    expect(new URLSearchParams(server.seen[0]!.body).get('username')).toBe('unit@example.com');
    expect(server.seen.slice(1).map((s) => s.authorization)).toEqual(['bearer token-1', 'bearer token-1']);
    expect(JSON.parse(server.seen[2]!.body)).toEqual({ csi: 4 });
    expect(client.stats).toMatchObject({ logins: 1, searches: 1, puts: 1, requests: 3, retries: 0 });
  });

  it('retries a 503 and then gives up with the status; a 400 is not retried', async () => {
    const { client, server } = await clientFor({ search: [{ status: 503 }, { status: 503 }] });
    await client.searchSessions('x', 0, 50);
    expect(client.stats.retries).toBe(2);
    const down = await clientFor({ search: Array.from({ length: 5 }, () => ({ status: 503 })) }, { retries: 2 });
    expect(await failure(down.client.searchSessions('x', 0, 50))).toMatchObject({ code: 'E_HTTP', status: 503 });
    expect(down.server.seen.filter((s) => s.method === 'GET')).toHaveLength(3);
    const bad = await clientFor({ put: [{ status: 400, body: { detail: 'bad field' } }] });
    expect(await failure(bad.client.putMetadata(SESSION, { csi: 4 }))).toMatchObject({ code: 'E_HTTP', status: 400 });
    expect(bad.server.seen.filter((s) => s.method === 'PUT')).toHaveLength(1);
    expect(server.seen.filter((s) => s.method === 'GET')).toHaveLength(3);
  });

  it('a 429 is waited out and retried beyond --retries', async () => {
    const busy = Array.from({ length: 2 }, () => ({ status: 429, headers: { 'retry-after': '0' } }));
    const { client } = await clientFor({ search: busy }, { retries: 0 });
    await client.searchSessions('x', 0, 50);
    expect(client.stats).toMatchObject({ throttled: 2, retries: 2 });
  });

  it('a refused token (401) is renewed once; refused again with a fresh token, the call fails naming the user', async () => {
    const { client, server } = await clientFor({ put: [{ status: 401 }] });
    await client.putMetadata(SESSION, { csi: 4 });
    expect(server.seen.filter((s) => s.method === 'PUT').map((s) => s.authorization)).toEqual(['bearer token-1', 'bearer token-2']);
    const denied = await clientFor({ put: [{ status: 401 }, { status: 401 }] });
    const e = await failure(denied.client.putMetadata(SESSION, { csi: 4 }));
    expect(e).toMatchObject({ code: 'E_LOGIN', status: 401 });
    expect(e.message).toContain('user unit@example.com lacks the right');
  });

  it('renews a token before it expires, by the injected clock', async () => {
    let t = 1_000_000;
    const { client, server } = await clientFor({ login: [{ status: 200, body: { access_token: 'short', expires_in: 10 } }] }, { now: () => t });
    await client.searchSessions('x', 0, 50);
    t += 7_000;
    await client.searchSessions('x', 0, 50);
    // a fifth of a 10 s life is left at 8 s: the next call logs in first
    t += 1_500;
    await client.searchSessions('x', 0, 50);
    expect(server.seen.map((s) => s.authorization ?? 'login')).toEqual(['login', 'bearer short', 'bearer short', 'login', 'bearer token-1']);
  });

  it('a refused login says to check the credentials and never shows the password', async () => {
    const { client } = await clientFor({ login: [{ status: 401, body: { detail: `bad password ${PASSWORD}` } }] });
    const e = await failure(client.login());
    expect(e).toMatchObject({ code: 'E_LOGIN', status: 401 });
    expect(e.message).toMatch(/login refused by http:\/\/127\.0\.0\.1:\d+ for user unit@example\.com \(HTTP 401\): check ET_AUTH_KEY/);
    expect(e.message).not.toContain(PASSWORD);
  });

  it('never follows a redirect of the login: the password goes nowhere but the API', async () => {
    const { client, server } = await clientFor({ login: [{ status: 302, headers: { location: 'http://elsewhere.example/login' } }] });
    const e = await failure(client.login());
    expect(e.code).toBe('E_LOGIN');
    expect(e.message).toMatch(/the password is sent nowhere but http:\/\/127\.0\.0\.1/);
    expect(server.seen).toHaveLength(1);
  });

  it('refuses, before sending, a session id that is not a UUID and a body over --max-body-kb', async () => {
    const { client, server } = await clientFor({});
    expect((await failure(client.putMetadata('../admin', { csi: 1 }))).code).toBe('E_BAD_SESSION_ID');
    expect((await failure(client.putMetadata(SESSION, { note: 'n'.repeat(2000) }))).code).toBe('E_TOO_LARGE');
    expect(server.seen).toHaveLength(0);
  });

  it('refuses an answer over --max-response-mb rather than buffering it, and a page of more sessions than asked', async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ id: SESSION, note: `${i}`.padEnd(100, '.') }));
    const { client } = await clientFor({ search: [{ status: 200, body: { total: 50, items } }] }, { maxResponseBytes: 1000, retries: 0 });
    expect((await failure(client.searchSessions('x', 0, 50))).code).toBe('E_TOO_LARGE');
    const many = await clientFor({ search: [{ status: 200, body: { total: 50, items } }] });
    expect((await failure(many.client.searchSessions('x', 0, 50, 10))).code).toBe('E_TOO_MANY_CANDIDATES');
  });

  it('a stop ends a retry wait at once', async () => {
    const stop = new AbortController();
    const { client } = await clientFor({ search: Array.from({ length: 5 }, () => ({ status: 503 })) }, { retryBaseMs: 60_000, stopSignal: stop.signal });
    const call = failure(client.searchSessions('x', 0, 50));
    setTimeout(() => stop.abort(), 50);
    expect((await call).code).toBe('E_INTERRUPTED');
  });
});
