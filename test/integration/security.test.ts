import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { runCli } from '../helpers/cli.js';
import { importInto } from '../helpers/run.js';
import { PASSWORD, USER, configFile, envFor, fixture, ROOT, startSandbox, tempDir } from '../helpers/sandbox.js';
import { keepTokens } from '../helpers/secrets.js';

const tls = (f: string) => join(ROOT, 'test', 'helpers', 'tls', f);

describe('TLS', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ tls: { key: readFileSync(tls('server.key')), cert: readFileSync(tls('server.crt')) } });
  });
  afterAll(() => sandbox.close());
  const args = () => ['run', '-i', fixture('crm-export.csv'), '-m', configFile('mapping.example.yaml'), '--report-dir', tempDir(), '--retries', '0'];

  it('verifies certificates by default: a private CA is refused with a message saying what to do', async () => {
    expect(sandbox.url).toMatch(/^https:/);
    const r = await runCli(args(), envFor(sandbox.url));
    expect(r.code).toBe(3);
    expect(r.said).toMatch(/TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted .*--ca-file/);
  });
  it('trusts a private CA given with --ca-file or NODE_EXTRA_CA_CERTS', async () => {
    const viaFlag = await runCli([...args(), '--ca-file', tls('ca.crt')], envFor(sandbox.url));
    expect(viaFlag.code).toBe(1); // the fixture has bad rows on purpose
    expect(viaFlag.stdout).toMatch(/updated\s+2/);
    const viaEnv = await runCli(args(), { ...envFor(sandbox.url), NODE_EXTRA_CA_CERTS: tls('ca.crt') });
    expect(viaEnv.code).toBe(1);
  });
  it('switching verification off is explicit and warned about', async () => {
    const r = await runCli(args(), { ...envFor(sandbox.url), ET_SSL_VERIFY: 'false' });
    expect(r.code).toBe(1);
    expect(r.said).toContain('TLS certificate verification is OFF');
    const viaUrl = await runCli([...args(), '--url', `${sandbox.url}/?ssl_verify=false`], envFor(sandbox.url));
    expect(viaUrl.code).toBe(1);
    // ET_SSL_VERIFY wins over the URL's option, as in the SDK
    const envWins = await runCli([...args(), '--url', `${sandbox.url}/?ssl_verify=false`], { ...envFor(sandbox.url), ET_SSL_VERIFY: 'true' });
    expect(envWins.code).toBe(3);
  });
});

describe('secrets and hostile answers', () => {
  it('reads the password from ET_AUTH_SECRET_FILE', async () => {
    const sandbox = await startSandbox();
    try {
      // the secret file itself lives outside the folder the secret scan reads
      const secretFile = join(mkdtempSync(join(tmpdir(), 'et-secret-')), 'password');
      writeFileSync(secretFile, `${PASSWORD}\n`);
      const r = await runCli(['run', '-i', fixture('crm-export.csv'), '-m', configFile('mapping.example.yaml'), '--report-dir', tempDir()], {
        ET_URL: sandbox.url,
        ET_AUTH_KEY: USER,
        ET_AUTH_SECRET_FILE: secretFile,
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/updated\s+2/);
    } finally {
      await sandbox.close();
    }
  });

  it('merges API metadata without prototype pollution and refuses oversized answers', async () => {
    const id = '11111111-1111-4111-8111-111111111111';
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url?.includes('login')) return res.end(JSON.stringify({ access_token: 'hostile-token-123456', token_type: 'bearer', expires_in: 600 }));
        if (req.method === 'PUT') {
          bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
          return res.end('{}');
        }
        const q = new URL(req.url ?? '/', 'http://x').searchParams.get('filters') ?? '';
        if (q.endsWith('HUGE')) return res.end(JSON.stringify({ total: 1, items: [{ id, external_id: 'HUGE', blob: 'x'.repeat(3 * 1024 * 1024) }] }));
        res.end(
          `{"total":1,"items":[{"id":"${id}","external_id":"EVIL","__proto__":{"polluted":"yes","crm_statuses":["from-proto"]},"constructor":{"prototype":{"polluted":"yes"}},"crm_statuses":["a"]}]}`,
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    keepTokens(['hostile-token-123456']);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const dir = tempDir();
      writeFileSync(join(dir, 'in.csv'), 'Call ID,Status\nEVIL,b\nHUGE,c\n');
      writeFileSync(join(dir, 'm.yaml'), 'match: { column: Call ID }\nfields:\n  crm_statuses: { column: Status, type: list, merge: append }\n');
      const r = await importInto(url, { inputs: [join(dir, 'in.csv')], mapping: join(dir, 'm.yaml'), maxResponseMb: 1 });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('crm_statuses');
      expect(bodies).toEqual([{ crm_statuses: ['a', 'b'] }]);
      const huge = r.results.find((x) => x.key === 'HUGE')!;
      expect(huge.status).toBe('failed');
      expect(huge.error_message).toContain('response size limit');
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});

describe('settings files are never echoed', () => {
  // outside the artifacts the secret scan reads: these files hold the password on purpose
  const secretDir = () => mkdtempSync(join(tmpdir(), 'et-secret-'));

  it('a broken settings file holding the password, or ET_IMPORT_CONFIG naming the password file: the password appears nowhere, the file, line and column are named', async () => {
    const dir = secretDir();
    const broken = join(dir, 'nightly.yaml');
    writeFileSync(broken, `concurrency: 4\nstate-dir: /data/state\n  password: ${PASSWORD}: [oops\n`);
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}: {\n`);
    const jsonFile = join(dir, 'settings.json');
    writeFileSync(jsonFile, `{ "concurrency": 4,\n  "x": "${PASSWORD} }`);
    const args = ['run', '-i', fixture('crm-export.csv'), '-m', configFile('mapping.example.yaml'), '--report-dir', tempDir()];
    const env = { ET_URL: 'http://127.0.0.1:9', ET_AUTH_KEY: USER, ET_AUTH_SECRET_FILE: passwordFile };
    for (const [config, where] of [
      [broken, /nightly\.yaml: not valid YAML at line \d+, column \d+ \(/],
      [passwordFile, /password: not valid YAML at line \d+, column \d+ \(/],
      [jsonFile, /settings\.json: not valid JSON at line 2, column \d+/],
    ] as const) {
      const r = await runCli(args, { ...env, ET_IMPORT_CONFIG: config });
      expect(r.code).toBe(3);
      expect(r.said).toMatch(where);
      expect(`${r.stdout}${r.stderr}`).not.toContain(PASSWORD);
      expect(`${r.stdout}${r.stderr}`).not.toContain('oops');
    }
  });
});
