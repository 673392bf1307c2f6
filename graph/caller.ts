/**
 * How the gateway tells a subgraph who is calling. The gateway authenticates the API key (the same keys and
 * tenancy as REST) and forwards the caller in headers; a subgraph believes them only with the internal token
 * (`GRAPH_INTERNAL_TOKEN`, required in production), so a client that reaches a subgraph directly cannot pose as
 * another client. Without a token (dev) the subgraphs listen on loopback only.
 */
import { timingSafeEqual } from 'node:crypto';
import { type Caller, digest, type Role } from '../api/middleware/auth.js';

export const INTERNAL_TOKEN_HEADER = 'x-graph-internal-token';
export const CLIENT_ID_HEADER = 'x-graph-client-id';
export const CLIENT_ROLE_HEADER = 'x-graph-client-role';

/** The headers the gateway adds to every subgraph request. */
export function callerHeaders(caller: Caller, internalToken: string | undefined): Record<string, string> {
  return {
    [CLIENT_ID_HEADER]: caller.clientId,
    [CLIENT_ROLE_HEADER]: caller.role,
    ...(internalToken ? { [INTERNAL_TOKEN_HEADER]: internalToken } : {}),
  };
}

/** Whether a request carries the internal token (always true when none is configured). */
export function hasInternalToken(headers: Headers, internalToken: string | undefined): boolean {
  if (!internalToken) return true;
  return timingSafeEqual(digest(headers.get(INTERNAL_TOKEN_HEADER) ?? ''), digest(internalToken));
}

/** The caller a gateway request names; undefined when it names none (or an unknown role). */
export function callerOfHeaders(headers: Headers): Caller | undefined {
  const clientId = headers.get(CLIENT_ID_HEADER);
  const role = headers.get(CLIENT_ROLE_HEADER);
  if (!clientId || (role !== 'client' && role !== 'admin')) return undefined;
  return { clientId, role: role satisfies Role };
}
