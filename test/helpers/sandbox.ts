import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Sandbox, parseSessions, type SandboxOptions } from '../../src/sandbox/server.js';
import type { SandboxSession } from '../../src/sandbox/store.js';
import { readConnection, type Connection } from '../../src/api/connection.js';
import { PASSWORD, USER, artifactsDir, keepTokens } from './secrets.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const fixture = (name: string) => join(ROOT, 'fixtures', name);
export const configFile = (name: string) => join(ROOT, 'config', name);

export { USER, PASSWORD };

export function fixtureSessions(): SandboxSession[] {
  const parsed = parseSessions(JSON.parse(readFileSync(fixture('sessions.json'), 'utf8')));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value.sessions;
}

/** A sandbox on a free port with the fixture sessions (or the given ones), closed by the caller. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = new Sandbox({ sessions: fixtureSessions(), users: [{ username: USER, password: PASSWORD }], ...options });
  await sandbox.listen(0);
  const close = sandbox.close.bind(sandbox);
  sandbox.close = async () => {
    keepTokens(sandbox.issuedTokens);
    await close();
  };
  return sandbox;
}

export function connectionFor(url: string, extra: NodeJS.ProcessEnv = {}): Connection {
  return readConnection({ ET_URL: url, ET_AUTH_KEY: USER, ET_AUTH_SECRET: PASSWORD, ...extra });
}

export function envFor(url: string): NodeJS.ProcessEnv {
  return { ET_URL: url, ET_AUTH_KEY: USER, ET_AUTH_SECRET: PASSWORD };
}

/** A fresh folder inside the artifacts the secret scan reads. */
export function tempDir(prefix = 'et-import-'): string {
  return mkdtempSync(join(artifactsDir(), prefix));
}

/** Metadata of every session, by id. */
export function metadataById(sandbox: Sandbox): Record<string, Record<string, unknown>> {
  return Object.fromEntries(sandbox.store.all().map((s) => [s.id, { ...s.metadata }]));
}

export function putCount(sandbox: Sandbox): number {
  return Object.entries(sandbox.stats.requests)
    .filter(([k]) => k.startsWith('PUT '))
    .reduce((n, [, v]) => n + v, 0);
}
