/** Bearer API keys: each belongs to a client app (its identity), admin keys also change the catalog; constant-time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { ANONYMOUS_CLIENT_ID, type ClientKey } from '../../core/api-keys.js';
import { ProblemError } from '../problems/problem.js';

/** What a key may do: client keys place and read orders, admin keys also change the catalog. */
export type Role = 'client' | 'admin';

/** Variables the auth middleware sets on the request context. */
export interface AuthVariables {
  role: Role;
  /**
   * The configured client id of the key (`clientId:key`), the same for every key of a client: orders belong to it
   * and idempotency keys are scoped to it. `anonymous` when auth is off.
   */
  clientId: string;
}

/** SHA-256 of a key: keys are compared as digests of equal length, in constant time. */
export const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The key of an `Authorization: Bearer <key>` header (scheme in any case, any spaces between), if that is all it
 * holds: no token, two tokens or another scheme give undefined. Header values arrive trimmed (fetch's `Headers`, and
 * Node's parser before it), so spaces around the value never reach here.
 */
// Stryker disable next-line StringLiteral: any text in place of a missing header is not a Bearer header either
export const bearerToken = (header: string | undefined) => /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];

/** Compares against every configured key without early exit, so timing does not reveal a match position. */
export function matches(candidate: Buffer, keys: Buffer[]): boolean {
  let found = false;
  for (const key of keys) found = timingSafeEqual(candidate, key) || found;
  return found;
}

/** Configured keys (`API_KEYS`, `ADMIN_API_KEYS`); `enabled` is false only in dev mode with no keys. */
export interface AuthConfig {
  enabled: boolean;
  apiKeys: ClientKey[];
  adminKeys: ClientKey[];
}

interface KeyEntry {
  digest: Buffer;
  clientId: string;
  role: Role;
}

/** The entry whose key has this digest; compares against every entry without early exit (keys are unique). */
function findKey(candidate: Buffer, entries: readonly KeyEntry[]): KeyEntry | undefined {
  let found: KeyEntry | undefined;
  for (const entry of entries) {
    const equal = timingSafeEqual(candidate, entry.digest);
    found = equal ? entry : found;
  }
  return found;
}

/**
 * Rejects requests without a valid key (401) and client keys on admin routes (403); sets the key's client id and
 * role. Off when no keys are set: one anonymous client with the admin role.
 */
export function requireKey(auth: AuthConfig, role: Role): MiddlewareHandler<{ Variables: AuthVariables }> {
  const entries: KeyEntry[] = [
    ...auth.adminKeys.map(({ clientId, key }) => ({ digest: digest(key), clientId, role: 'admin' as const })),
    ...auth.apiKeys.map(({ clientId, key }) => ({ digest: digest(key), clientId, role: 'client' as const })),
  ];
  return async (c, next) => {
    if (!auth.enabled) {
      c.set('role', 'admin');
      c.set('clientId', ANONYMOUS_CLIENT_ID);
      return next();
    }
    const token = bearerToken(c.req.header('authorization'));
    const unauthorized = new ProblemError('unauthorized', 'Send `Authorization: Bearer <api key>`', {
      headers: { 'www-authenticate': 'Bearer' },
    });
    if (!token) throw unauthorized;
    const entry = findKey(digest(token), entries);
    if (!entry) throw unauthorized;
    if (role === 'admin' && entry.role !== 'admin') {
      throw new ProblemError('forbidden', 'This route needs a key from ADMIN_API_KEYS');
    }
    c.set('role', entry.role);
    c.set('clientId', entry.clientId);
    return next();
  };
}

/** Who is calling: their client id (tenancy) and whether they may see every client's orders. */
export interface Caller {
  clientId: string;
  role: Role;
}

/** The caller of a request, as `requireKey` identified it. */
export function callerOf(c: Context<{ Variables: AuthVariables }>): Caller {
  return { clientId: c.get('clientId'), role: c.get('role') };
}
