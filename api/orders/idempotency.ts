/** Idempotency keys: the key (scoped to the caller) names the order, and a hash of the body tells a retry from a reuse. */
import { createHash, randomUUID } from 'node:crypto';

/**
 * The order id for a request: derived from the key, so every API instance (and a restarted one) maps a retry to the
 * same workflow id without any shared state; random without a key, so two posts are two orders.
 */
export function orderIdFor(clientId: string, idempotencyKey: string | undefined): string {
  if (!idempotencyKey) return `ord_${randomUUID().replaceAll('-', '')}`;
  return `ord_${sha256(`${clientId}\u0000${idempotencyKey}`).slice(0, 32)}`;
}

/** Fingerprint of a validated request body; key order does not matter. */
export function requestHash(body: unknown): string {
  return sha256(canonicalJson(body));
}

/** JSON with sorted keys, so the same body always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    // Stryker disable next-line EqualityOperator: an object's keys are distinct, so `<` and `<=` sort alike
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
