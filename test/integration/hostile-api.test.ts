import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TOKEN, startFakeApi, type FakeAnswer, type FakeRequest } from '../helpers/fake-api.js';
import { importInto } from '../helpers/run.js';
import { USER, envFor, tempDir } from '../helpers/sandbox.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

function files(csv: string, mapping = 'match: { column: Call ID }\nfields: { customer_id: Customer }\n') {
  const dir = tempDir();
  writeFileSync(join(dir, 'in.csv'), csv);
  writeFileSync(join(dir, 'm.yaml'), mapping);
  return { input: join(dir, 'in.csv'), mapping: join(dir, 'm.yaml'), dir };
}

const isSearch = (r: FakeRequest) => r.method === 'GET' && r.path.endsWith('/sessions');
const isLogin = (r: FakeRequest) => r.path.endsWith('/login/access-token');
const page = (items: unknown[], total = items.length): FakeAnswer => ({ body: { total, items } });

/** Every substring of `secret` this long, to look for fragments. */
function fragments(secret: string, length = 12): string[] {
  return Array.from({ length: secret.length - length + 1 }, (_, i) => secret.slice(i, i + length));
}

describe('odd and hostile API answers', () => {
  it('a login answer without a token: exit 3, saying so', async () => {
    const api = await startFakeApi((r) => (isLogin(r) ? { body: { token_type: 'bearer' } } : undefined));
    try {
      const f = files('Call ID,Customer\nK1,C\n');
      const r = await runCli(['run', '-i', f.input, '-m', f.mapping, '--report-dir', tempDir()], envFor(api.url));
      expect(r.code).toBe(3);
      expect(r.said).toContain(`login at ${api.url} answered without an access_token`);
    } finally {
      await api.close();
    }
  });

  it('search answers that are not JSON, or JSON without items, or with non-UUID ids: those rows fail, nothing is written', async () => {
    const api = await startFakeApi((r) => {
      if (!isSearch(r)) return r.method === 'PUT' ? { body: {} } : undefined;
      const q = r.query.get('filters')!;
      if (q.endsWith('HTML')) return { body: '<html>maintenance</html>' };
      if (q.endsWith('NOITEMS')) return { body: { total: 1, sessions: [] } };
      if (q.endsWith('BADID')) return page([{ id: '../../admin', external_id: 'BADID' }]);
      return page([{ id: A, external_id: 'GOOD' }]);
    });
    try {
      const f = files('Call ID,Customer\nHTML,C1\nNOITEMS,C2\nBADID,C3\nGOOD,C4\n');
      const r = await importInto(api.url, { inputs: [f.input], mapping: f.mapping, retries: 0 });
      const by = Object.fromEntries(r.results.map((x) => [x.key, x]));
      expect(by.HTML).toMatchObject({ status: 'failed', error_code: 'E_API', error_message: expect.stringContaining('answered something that is not JSON') });
      expect(by.NOITEMS).toMatchObject({ status: 'failed', error_code: 'E_API', error_message: expect.stringContaining('without an `items` list') });
      expect(by.BADID).toMatchObject({ status: 'failed', error_code: 'E_BAD_SESSION_ID' });
      expect(by.GOOD).toMatchObject({ status: 'updated', session_id: A });
      expect(api.requests.filter((q) => q.method === 'PUT').map((q) => q.path)).toEqual([`/api/v1/sessions/${A}/metadata`]);
      expect(r.exitCode).toBe(1);
    } finally {
      await api.close();
    }
  });

  it('--max-candidates: a key with too many exact hits fails, and a page larger than that is refused before it is parsed', async () => {
    const many = (n: number, key: string) =>
      Array.from({ length: n }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, external_id: key }));
    const api = await startFakeApi((r) => {
      if (!isSearch(r)) return undefined;
      const q = r.query.get('filters')!;
      const skip = Number(r.query.get('skip'));
      if (q.endsWith('PAGED')) return page(many(300, 'PAGED').slice(skip, skip + 100), 300);
      // a hostile page: 50,000 sessions whatever `limit` asked
      if (q.endsWith('FLOOD')) return page(many(50_000, 'FLOOD'));
      return page([]);
    });
    try {
      const f = files('Call ID,Customer\nPAGED,C1\nFLOOD,C2\n');
      const r = await importInto(api.url, { inputs: [f.input], mapping: f.mapping, maxCandidates: 150 });
      const by = Object.fromEntries(r.results.map((x) => [x.key, x]));
      expect(by.PAGED).toMatchObject({ status: 'failed', error_code: 'E_TOO_MANY_CANDIDATES' });
      expect(by.FLOOD).toMatchObject({
        status: 'failed',
        error_code: 'E_TOO_MANY_CANDIDATES',
        error_message: expect.stringContaining('more than 150 sessions'),
      });
      // PAGED: page 1 (100) is examined, page 2 would pass 150, and is refused: two searches, no third
      expect(api.requests.filter((q) => isSearch(q) && q.query.get('filters')!.endsWith('PAGED'))).toHaveLength(2);
    } finally {
      await api.close();
    }
  });

  it('onMultiple: newest picks the latest start, and equal latest starts are ambiguous', async () => {
    const api = await startFakeApi((r) => {
      if (r.method === 'PUT') return { body: {} };
      if (!isSearch(r)) return undefined;
      const q = r.query.get('filters')!;
      if (q.endsWith('TIE'))
        return page([
          { id: A, external_id: 'TIE', start_time: '2025-06-01T10:00:00Z' },
          { id: B, external_id: 'TIE', start_time: '2025-06-01T10:00:00.000Z' },
        ]);
      return page([
        { id: A, external_id: 'NEW', start_time: '2025-06-01T10:00:00Z' },
        { id: B, external_id: 'NEW', start_time: '2025-06-02T10:00:00Z' },
      ]);
    });
    try {
      const f = files('Call ID,Customer\nTIE,C1\nNEW,C2\n', 'match: { column: Call ID, onMultiple: newest }\nfields: { customer_id: Customer }\n');
      const r = await importInto(api.url, { inputs: [f.input], mapping: f.mapping });
      const by = Object.fromEntries(r.results.map((x) => [x.key, x]));
      expect(by.TIE).toMatchObject({ status: 'ambiguous', error_code: 'E_AMBIGUOUS' });
      expect(by.NEW).toMatchObject({ status: 'updated', session_id: B });
    } finally {
      await api.close();
    }
  });

  it('a login refused in the middle of a run stops it with exit 3, resumable', async () => {
    let logins = 0;
    const api = await startFakeApi((r) => {
      if (isLogin(r)) return ++logins === 1 ? undefined : { status: 401, body: { detail: 'Incorrect email or password' } };
      // the first token is revoked once the first row is written
      if (api.requests.filter((q) => q.method === 'PUT').length > (r.method === 'PUT' ? 1 : 0)) return { status: 401, body: { detail: 'token revoked' } };
      return r.method === 'PUT' ? { body: {} } : page([{ id: A, external_id: r.query.get('filters')!.split(',')[1]! }]);
    });
    try {
      const f = files('Call ID,Customer\nK1,C1\nK2,C2\nK3,C3\n');
      const reportDir = tempDir();
      const r = await runCli(['run', '-i', f.input, '-m', f.mapping, '--report-dir', reportDir, '--concurrency', '1'], envFor(api.url));
      expect(r.code).toBe(3);
      expect(r.said).toContain(`login refused by ${api.url} for user ${USER} (HTTP 401)`);
      const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')) as { resumable: string; counts: { updated: number } };
      expect(summary.resumable).toContain('--resume');
      expect(summary.counts.updated).toBe(1);
    } finally {
      await api.close();
    }
  });
});

describe('redirects, refused tokens, echoed secrets and stalls', () => {
  it('a login redirected to another host never delivers the password there: exit 3', async () => {
    const elsewhere = await startFakeApi(() => ({ body: { access_token: 'stolen', token_type: 'bearer' } }));
    for (const status of [301, 302, 307, 308]) {
      const api = await startFakeApi((r) => (isLogin(r) ? { status, headers: { location: `${elsewhere.url}/api/v1/login/access-token` } } : undefined));
      try {
        const f = files('Call ID,Customer\nK1,C\n');
        const r = await runCli(['run', '-i', f.input, '-m', f.mapping, '--report-dir', tempDir()], envFor(api.url));
        expect(r.code).toBe(3);
        expect(r.said).toContain(`HTTP ${status}`);
        expect(r.said).toContain(`redirecting to host ${new URL(elsewhere.url).host}: not followed`);
      } finally {
        await api.close();
      }
    }
    expect(elsewhere.requests).toEqual([]);
    await elsewhere.close();
  });

  it('a PUT redirected to another host sends nothing there, no row says updated, the exit code is not 0', async () => {
    const elsewhere = await startFakeApi(() => ({ body: {} }));
    const api = await startFakeApi((r) => {
      if (r.method === 'PUT') return { status: 307, headers: { location: `${elsewhere.url}${r.path}` } };
      return isSearch(r) ? page([{ id: A, external_id: 'K1' }]) : undefined;
    });
    try {
      const f = files('Call ID,Customer\nK1,C\n');
      const r = await importInto(api.url, { inputs: [f.input], mapping: f.mapping });
      expect(r.results).toEqual([
        expect.objectContaining({
          status: 'failed',
          error_code: 'E_REDIRECT',
          error_message: expect.stringContaining('answered HTTP 307 Temporary Redirect redirecting to host'),
        }),
      ]);
      expect(r.exitCode).toBe(1);
      expect(elsewhere.requests).toEqual([]);
      // nor is the token ever sent after a redirect, even to the same host
      expect(api.requests.filter((q) => q.method === 'PUT')).toHaveLength(1);
    } finally {
      await api.close();
      await elsewhere.close();
    }
  });

  it('a 401 on every request stops the run with exit 3, after a handful of logins', async () => {
    const api = await startFakeApi((r) => (isLogin(r) ? undefined : { status: 401, body: { detail: 'Not authenticated' } }));
    try {
      const lines = ['Call ID,Customer', ...Array.from({ length: 300 }, (_, i) => `K${i},C`)];
      const f = files(`${lines.join('\n')}\n`);
      const r = await runCli(['run', '-i', f.input, '-m', f.mapping, '--report-dir', tempDir()], envFor(api.url));
      expect(r.code).toBe(3);
      expect(r.said).toMatch(/refused \(HTTP 401\) with a token issued moments before: user .* lacks the right/);
      expect(api.requests.filter(isLogin).length).toBeLessThanOrEqual(6);
      expect(api.requests.filter(isSearch).length).toBeLessThan(40);
    } finally {
      await api.close();
    }
  });

  it('a token echoed in an error body leaves no 12-character fragment in reports or logs, at any offset around the cut', async () => {
    const offsets = Array.from({ length: 40 }, (_, i) => 170 + i);
    const api = await startFakeApi((r) => {
      if (!isSearch(r)) return undefined;
      const k = Number(r.query.get('filters')!.split(',')[1]!.slice(1));
      return {
        status: 400,
        body: `${'x'.repeat(k)} ${r.headers.authorization} and again ${encodeURIComponent(TOKEN)}`,
        headers: { 'content-type': 'text/plain' },
      };
    });
    try {
      const f = files(`Call ID,Customer\n${offsets.map((k) => `K${k},C`).join('\n')}\n`);
      const r = await importInto(api.url, { inputs: [f.input], mapping: f.mapping });
      expect(r.counts.failed).toBe(offsets.length);
      const out = [
        readFileSync(join(r.reportDir, 'results.csv'), 'utf8'),
        readFileSync(join(r.reportDir, 'failed.csv'), 'utf8'),
        r.captured.logs.join(''),
      ].join('\n');
      for (const frag of fragments(TOKEN)) expect(out).not.toContain(frag);
      expect(out).toContain('[REDACTED]');
    } finally {
      await api.close();
    }
  });

  it('a login error echoing the form leaves no form-encoded password', async () => {
    const password = 'Pa55 secret!word';
    const api = await startFakeApi((r) =>
      isLogin(r) ? { status: 400, body: { detail: `bad form: ${r.body}`, raw: r.body, json: JSON.stringify(password) } } : undefined,
    );
    try {
      const f = files('Call ID,Customer\nK1,C\n');
      const r = await runCli(['run', '-i', f.input, '-m', f.mapping, '--report-dir', tempDir(), '--log-level', 'trace'], {
        ET_URL: api.url,
        ET_AUTH_KEY: USER,
        ET_AUTH_SECRET: password,
      });
      expect(r.code).toBe(3);
      const forms = [password, 'Pa55+secret%21word', encodeURIComponent(password), 'Pa55%20secret!word', Buffer.from(password).toString('base64')];
      for (const form of forms) expect(r.said).not.toContain(form);
      for (const frag of fragments('Pa55+secret%21word', 8)) expect(r.said).not.toContain(frag);
    } finally {
      await api.close();
    }
  });

  it('SIGTERM during a hanging login exits 4 within --stop-timeout + 1 s, with the report written', async () => {
    const api = await startFakeApi((r) => (isLogin(r) ? 'hang' : undefined));
    try {
      const f = files('Call ID,Customer\nK1,C\n');
      const reportDir = tempDir();
      const run = runCli(['run', '-i', f.input, '-m', f.mapping, '--report-dir', reportDir, '--stop-timeout', '2'], envFor(api.url));
      while (api.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 500));
      const sent = Date.now();
      run.child.kill('SIGTERM');
      const r = await run;
      expect(r.code).toBe(4);
      expect(Date.now() - sent).toBeLessThan(3_000);
      expect(readdirSync(reportDir)).toContain('summary.json');
      expect(api.requests.filter(isLogin)).toHaveLength(1);
    } finally {
      await api.close();
    }
  });

  it('a stalled body is reported as a timeout, not as an unreachable API', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      if (req.url?.includes('login')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ access_token: TOKEN, token_type: 'bearer', expires_in: 3600 }));
      }
      // headers and half a body, then nothing
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"total":1,"items":[');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const f = files('Call ID,Customer\nK1,C\n');
      const r = await importInto(url, { inputs: [f.input], mapping: f.mapping, timeout: 0.3, retries: 1, retryDelay: 10 });
      expect(r.results).toEqual([
        expect.objectContaining({ status: 'failed', error_code: 'E_TIMEOUT', error_message: expect.stringContaining('timed out: no complete answer') }),
      ]);
      expect(r.results[0]!.error_message).not.toContain('cannot reach');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('SIGTERM ends retry sleeps at once: a 503 asking for a 60 s wait does not hold the run', async () => {
    const api = await startFakeApi((r) => (isSearch(r) ? { status: 503, headers: { 'retry-after': '60' }, body: { detail: 'maintenance' } } : undefined));
    try {
      const f = files('Call ID,Customer\nK1,C\nK2,C\n');
      const reportDir = tempDir();
      const run = runCli(['run', '-i', f.input, '-m', f.mapping, '--report-dir', reportDir, '--stop-timeout', '30'], envFor(api.url));
      while (api.requests.filter(isSearch).length < 2) await new Promise((r) => setTimeout(r, 20));
      const sent = Date.now();
      run.child.kill('SIGTERM');
      const r = await run;
      expect(r.code).toBe(4);
      expect(Date.now() - sent).toBeLessThan(3_000);
      const summary = JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')) as { resumable: string };
      expect(summary.resumable).toContain('--resume');
    } finally {
      await api.close();
    }
  });
});

describe('data the tool does not own', () => {
  it('a stored value holding keys the safe parser had to drop is never written back changed (E_UNSAFE_EXISTING)', async () => {
    const api = await startFakeApi((r) => {
      if (r.method === 'PUT') return { body: {} };
      if (!isSearch(r)) return undefined;
      const key = r.query.get('filters')!.split(',')[1]!;
      const statuses = key === 'TAINTED' ? '[{"__proto__":{"polluted":true},"code":"A"}]' : '["a"]';
      return { body: `{"total":1,"items":[{"id":"${key === 'TAINTED' ? A : B}","external_id":"${key}","crm_statuses":${statuses},"note":"x"}]}` };
    });
    try {
      const f = files(
        'Call ID,Status,Note\nTAINTED,b,n1\nCLEAN,b,n2\n',
        'match: { column: Call ID }\nfields:\n  crm_statuses: { column: Status, type: list, merge: append }\n  note: Note\n',
      );
      const r = await importInto(api.url, { inputs: [f.input], mapping: f.mapping });
      const by = Object.fromEntries(r.results.map((x) => [x.key, x]));
      expect(by.TAINTED).toMatchObject({
        status: 'failed',
        error_code: 'E_UNSAFE_EXISTING',
        error_message: expect.stringContaining("the session's crm_statuses holds keys"),
      });
      expect(by.CLEAN).toMatchObject({ status: 'updated' });
      expect(api.requests.filter((q) => q.method === 'PUT').map((q) => q.path)).toEqual([`/api/v1/sessions/${B}/metadata`]);
    } finally {
      await api.close();
    }
  });
});
