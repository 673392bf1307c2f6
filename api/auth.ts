/** Bearer API keys: client keys for order routes, admin keys for catalog changes; constant-time checks. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ProblemError } from './problem.js';

/** What a key may do: client keys place and read orders, admin keys also change the catalog. */
export type Role = 'client' | 'admin';

/** Variables the auth middleware sets on the request context. */
export interface AuthVariables {
  role: Role;
  /** Short fingerprint of the key (never the key itself): scopes idempotency keys and appears in logs. */
  clientId: string;
}

/** SHA-256 of a key: keys are compared as digests of equal length, in constant time. */
export const digest = (value: string) => createHash('sha256').update(value).digest();

/** The key of an `Authorization: Bearer <key>` header, if that is what it holds. */
export const bearerToken = (header: string | undefined) => /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];

/** Compares against every configured key without early exit, so timing does not reveal a match position. */
export function matches(candidate: Buffer, keys: Buffer[]): boolean {
  let found = false;
  for (const key of keys) found = timingSafeEqual(candidate, key) || found;
  return found;
}

/** Configured keys; `enabled` is false only in dev mode with no keys. */
export interface AuthConfig {
  enabled: boolean;
  apiKeys: string[];
  adminKeys: string[];
}

/** Rejects requests without a valid key (401) and client keys on admin routes (403); off when no keys are set. */
export function requireKey(auth: AuthConfig, role: Role): MiddlewareHandler<{ Variables: AuthVariables }> {
  const clientKeys = auth.apiKeys.map(digest);
  const adminKeys = auth.adminKeys.map(digest);
  return async (c, next) => {
    if (!auth.enabled) {
      c.set('role', 'admin');
      c.set('clientId', 'anonymous');
      return next();
    }
    const token = bearerToken(c.req.header('authorization'));
    const unauthorized = new ProblemError('unauthorized', 'Send `Authorization: Bearer <api key>`', {
      headers: { 'www-authenticate': 'Bearer' },
    });
    if (!token) throw unauthorized;
    const candidate = digest(token);
    const isAdmin = matches(candidate, adminKeys);
    const isClient = matches(candidate, clientKeys);
    if (!isAdmin && !isClient) throw unauthorized;
    if (role === 'admin' && !isAdmin) {
      throw new ProblemError('forbidden', 'This route needs a key from ADMIN_API_KEYS');
    }
    c.set('role', isAdmin ? 'admin' : 'client');
    c.set('clientId', candidate.toString('hex').slice(0, 16));
    return next();
  };
}
