/** Limits of the API, enforced by the schemas and middleware and printed in the OpenAPI document and docs/API.md. */
export const API_LIMITS = {
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: 64 * 1024,
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
