import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

export const USER = 'tester@example.com';
export const PASSWORD = 'S3cret-Test-Pa55word';

/** The folder the global secret scan reads (see test/global-setup.ts). */
export function artifactsDir(): string {
  const dir = process.env.ET_TEST_ARTIFACTS ?? join(process.cwd(), '.test-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Keeps text the tool produced (logs, stdout, stderr, messages) for the secret scan. */
export function keepOutput(kind: string, text: string): void {
  if (text) writeFileSync(join(artifactsDir(), `${kind}-${randomUUID()}.txt`), text);
}

/** Records tokens an API stand-in issued, for the secret scan. */
export function keepTokens(tokens: string[]): void {
  writeFileSync(join(artifactsDir(), `tokens-${randomUUID()}.json`), JSON.stringify(tokens));
}
