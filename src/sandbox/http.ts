import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Result } from '../errors.js';
import type { SandboxStats, SandboxUser } from './defaults.js';
import type { SandboxSession } from './store.js';

/** The sandbox's plumbing: seed parsing, JSON answers, bodies, and the seeded fault generator. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_BODY = 1024 * 1024;

/** Accepts `[session, ...]` or `{ "sessions": [...] }`; each session needs a UUID `id`. */
export interface SandboxSeed {
  sessions: SandboxSession[];
  users?: SandboxUser[];
}

export function parseSessions(doc: unknown): Result<SandboxSeed, string> {
  const list = Array.isArray(doc)
    ? doc
    : typeof doc === 'object' && doc !== null && Array.isArray((doc as { sessions?: unknown }).sessions)
      ? (doc as { sessions: unknown[] }).sessions
      : undefined;
  if (!list) return { ok: false, error: 'expected a list of sessions or { "sessions": [...] }' };
  const sessions: SandboxSession[] = [];
  for (const [i, s] of list.entries()) {
    if (typeof s !== 'object' || s === null || typeof (s as { id?: unknown }).id !== 'string' || !UUID.test((s as { id: string }).id))
      return { ok: false, error: `sessions[${i}]: expected an object with a UUID "id"` };
    const m = (s as { metadata?: unknown }).metadata;
    if (m !== undefined && (typeof m !== 'object' || m === null || Array.isArray(m)))
      return { ok: false, error: `sessions[${i}].metadata: expected an object` };
    sessions.push({ ...(s as SandboxSession), metadata: (m as Record<string, unknown>) ?? {} });
  }
  const users = !Array.isArray(doc) && typeof doc === 'object' && doc !== null ? (doc as { users?: unknown }).users : undefined;
  if (Array.isArray(users) && users.every((u) => typeof u?.username === 'string' && typeof u?.password === 'string'))
    return { ok: true, value: { sessions, users: users as SandboxUser[] } };
  return { ok: true, value: { sessions } };
}

export function emptyStats(): SandboxStats {
  return { requests: {}, putsPerSession: {}, logins: 0, overlappingWrites: 0, peakInFlight: 0, peakLoad: 1 };
}

export function routeName(path: string): string {
  return path.replace(/\/sessions\/[^/]+\/metadata$/, '/sessions/{id}/metadata');
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function readBody(req: IncomingMessage, max = MAX_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A small seeded generator, so that injected faults can be replayed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
