import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepTokens } from './secrets.js';

export type Lie = 'huge-total' | 'ignores-skip' | 'repeats-last-page' | 'clamps-skip';

/**
 * A listing API that lies about its paging, written apart from the sandbox: `huge-total` claims
 * a billion sessions, `ignores-skip` answers the first page for every skip, `clamps-skip` caps
 * skip at 200, `repeats-last-page` answers its last page for every skip past the end and a total
 * that grows with each page asked. Searches find nothing; PUTs are accepted and counted.
 */
export async function startLyingApi(lie: Lie, sessions: number, creds: { username: string; password: string }) {
  const all = Array.from({ length: sessions }, (_, i) => ({
    id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    external_id: `K-${String(i).padStart(6, '0')}`,
    start_time: '2025-06-10T10:00:00Z',
  }));
  const issued: string[] = [];
  const stats = { listings: 0, puts: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://lying');
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (req.method === 'POST' && url.pathname === '/api/v1/login/access-token') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        if (form.get('username') !== creds.username || form.get('password') !== creds.password) return json(400, { detail: 'bad credentials' });
        const token = `lying-${Math.random().toString(36).slice(2)}`;
        issued.push(token);
        return json(200, { access_token: token, token_type: 'bearer', expires_in: 3600 });
      }
      if (req.method === 'GET' && url.pathname === '/api/v1/sessions') {
        const filters = url.searchParams.get('filters') ?? '';
        if (filters.startsWith('search_query,')) return json(200, { total: 0, items: [] });
        stats.listings++;
        const limit = Number(url.searchParams.get('limit') ?? 100);
        let skip = Number(url.searchParams.get('skip') ?? 0);
        const day = /date_range,(\d{4}-\d{2}-\d{2})/.exec(filters)?.[1];
        const list = day === '2025-06-10' ? all : [];
        if (lie === 'ignores-skip') skip = 0;
        if (lie === 'clamps-skip') skip = Math.min(skip, 200);
        if (lie === 'repeats-last-page' && list.length > 0) skip = Math.min(skip, list.length - limit);
        const total =
          lie === 'huge-total' && list.length > 0 ? 1e9 : lie === 'repeats-last-page' && list.length > 0 ? list.length + stats.listings * limit : list.length;
        return json(200, { total, items: list.slice(skip, skip + limit) });
      }
      if (req.method === 'PUT') {
        stats.puts++;
        return json(200, {});
      }
      return json(404, { detail: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () =>
      new Promise<void>((r) => {
        keepTokens(issued);
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
