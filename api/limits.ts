/** Limits of the API, enforced by the schemas and middleware and printed in the OpenAPI document and docs/API.md. */
export const API_LIMITS = {
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: 64 * 1024,
  /** Largest body the codec server accepts: a page of history payloads (one payload may be up to 2 MB). */
  maxCodecBodyBytes: 4 * 1024 * 1024,
  /** Payloads in one codec request. */
  maxCodecPayloads: 10_000,
  /** Items per order. */
  maxItems: 50,
  /** Quantity of one item. */
  maxQuantity: 1000,
  /** Longest `?wait=` honoured, in seconds. */
  maxWaitSeconds: 30,
  /** Page size of `GET /v1/orders`: default and maximum. */
  defaultPageSize: 20,
  maxPageSize: 100,
  /** Length of an `Idempotency-Key`. */
  maxIdempotencyKeyLength: 255,
} as const;
