import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseSessions, readBody, send } from './http.js';
import type { RequestRecord, SandboxStats } from './defaults.js';
import type { SessionStore } from './store.js';

/** What the admin endpoints reach of the sandbox. */
export interface AdminTarget {
  readonly store: SessionStore;
  readonly stats: SandboxStats;
  requests(): RequestRecord[];
  resetStats(): void;
  revokeTokens(): void;
}

/** Admin endpoints (no auth, under /admin): load and read sessions, read and clear what clients did. */
export async function handleAdmin(sandbox: AdminTarget, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
  if (path === '/admin/sessions' && req.method === 'GET') return send(res, 200, sandbox.store.all());
  if (path === '/admin/sessions' && req.method === 'POST') {
    const raw = await readBody(req, 512 * 1024 * 1024);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      return send(res, 422, { detail: 'body is not valid JSON' });
    }
    const seed = parseSessions(parsed);
    if (!seed.ok) return send(res, 422, { detail: seed.error });
    try {
      if (query.get('mode') === 'append') sandbox.store.add(seed.value.sessions);
      else sandbox.store.load(seed.value.sessions);
    } catch (err) {
      return send(res, 422, { detail: (err as Error).message });
    }
    return send(res, 200, { loaded: seed.value.sessions.length, total: sandbox.store.size });
  }
  const one = /^\/admin\/sessions\/([^/]+)$/.exec(path);
  if (one && req.method === 'GET') {
    const s = sandbox.store.get(decodeURIComponent(one[1]!));
    return s ? send(res, 200, s) : send(res, 404, { detail: 'Session not found' });
  }
  if (path === '/admin/stats' && req.method === 'GET') return send(res, 200, sandbox.stats);
  if (path === '/admin/requests' && req.method === 'GET') return send(res, 200, sandbox.requests());
  if (path === '/admin/requests' && req.method === 'DELETE') {
    sandbox.resetStats();
    return send(res, 200, { cleared: true });
  }
  if (path === '/admin/revoke-tokens' && req.method === 'POST') {
    sandbox.revokeTokens();
    return send(res, 200, { revoked: true });
  }
  return send(res, 404, { detail: 'Not Found' });
}
