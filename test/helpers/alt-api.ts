import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepTokens } from './secrets.js';

/**
 * A second, independent implementation of the API as the reference page describes it, written
 * differently from the sandbox on purpose: `Bearer` with a capital B, tokens living 2 s, an API
 * version other than v1, at most 3 items a page whatever `limit` asks, a case-sensitive search
 * over `external_id` and `file_name` only, errors as plain text.
 */
export interface AltSession {
  id: string;
  external_id: string;
  file_name?: string;
  start_time?: string;
  [key: string]: unknown;
}

export async function startAltApi(sessions: AltSession[], creds: { username: string; password: string }, version = 'v2') {
  const data = new Map(sessions.map((s) => [s.id, structuredClone(s)]));
  const tokens = new Map<string, number>();
  let counter = 0;
  const issued: string[] = [];
  const stats = { puts: 0, gets: 0, logins: 0, unauthorized: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const url = new URL(req.url ?? '/', 'http://alt');
      const text = (status: number, t: string) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(t);
      };
      const json = (v: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      const base = `/api/${version}`;
      if (req.method === 'POST' && url.pathname === `${base}/login/access-token`) {
        const form = new URLSearchParams(body);
        if (form.get('username') !== creds.username || form.get('password') !== creds.password) return text(401, 'bad credentials');
        stats.logins++;
        const token = `alt-token-${++counter}-${Math.random().toString(36).slice(2)}`;
        tokens.set(token, Date.now() + 2000);
        issued.push(token);
        return json({ access_token: token, token_type: 'Bearer', expires_in: 2 });
      }
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const exp = tokens.get(token);
      if (exp === undefined || exp < Date.now()) {
        stats.unauthorized++;
        return text(401, 'token expired');
      }
      if (req.method === 'GET' && url.pathname === `${base}/sessions`) {
        stats.gets++;
        const filters = (url.searchParams.get('filters') ?? '').split('\u00b1');
        let items = [...data.values()];
        for (const f of filters) {
          const [name, ...rest] = f.split(',');
          const value = rest.join(',');
          if (name === 'search_query') items = items.filter((s) => s.external_id.includes(value) || (s.file_name ?? '').includes(value));
        }
        const skip = Number(url.searchParams.get('skip') ?? 0);
        const limit = Math.min(3, Number(url.searchParams.get('limit') ?? 3));
        return json({ total: items.length, items: items.slice(skip, skip + limit) });
      }
      const m = /^\/api\/[^/]+\/sessions\/([^/]+)\/metadata$/.exec(url.pathname);
      if (req.method === 'PUT' && m) {
        const s = data.get(m[1]!);
        if (!s) return text(404, 'no such session');
        stats.puts++;
        const patch = JSON.parse(body) as Record<string, unknown>;
        for (const [k, v] of Object.entries(patch)) s[k] = v;
        const { id: _id, external_id: _e, file_name: _f, start_time: _t, ...meta } = s;
        return json(meta);
      }
      return text(404, 'not found');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    session: (id: string) => data.get(id),
    close: () =>
      new Promise<void>((r) => {
        keepTokens(issued);
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
