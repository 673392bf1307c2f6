/** Tells a database outage (answer 503, retry later) from a bug (answer 500). */

/** Driver error codes (postgres.js, Node sockets) that mean "cannot reach the database". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * SQLSTATEs for lost connections, shutdowns, exhausted connection slots, and a statement the server cancelled at
 * its timeout (57014) or a session it ended idle in a transaction (25P03): the database is too slow or too far to
 * answer now, which a retry later may not be.
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|53300|57014|25P03)$/;

/** True when an error (or one of its causes) says the database is unreachable or shutting down. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let cause: unknown = err; cause && !seen.has(cause); cause = (cause as { cause?: unknown }).cause) {
    seen.add(cause);
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) {
      return true;
    }
  }
  return false;
}
