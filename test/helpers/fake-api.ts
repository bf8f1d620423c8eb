import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepTokens } from './secrets.js';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  headers: IncomingMessage['headers'];
}

/** What a handler answers: a response, or `hang` (never answer), or `drop` (close the socket). */
export type FakeAnswer = { status?: number; body?: unknown; headers?: Record<string, string> } | 'hang' | 'drop';

export interface FakeApi {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

export const TOKEN = 'fake-api-token-0123456789abcdef';

/**
 * A small hostile or odd API on port 0, for the cases the sandbox does not play: it answers
 * whatever the handler returns. A login answers a token by default; the token is handed to the
 * secret scan like the sandbox's.
 */
export async function startFakeApi(handler: (r: FakeRequest) => FakeAnswer | undefined): Promise<FakeApi> {
  const requests: FakeRequest[] = [];
  keepTokens([TOKEN]);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const r: FakeRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        body: Buffer.concat(chunks).toString(),
        headers: req.headers,
      };
      requests.push(r);
      let answer = handler(r);
      if (answer === undefined && r.path.endsWith('/login/access-token')) answer = { body: { access_token: TOKEN, token_type: 'bearer', expires_in: 3600 } };
      if (answer === undefined) answer = { status: 404, body: { detail: 'Not Found' } };
      if (answer === 'hang') return;
      if (answer === 'drop') return req.socket.destroy();
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
