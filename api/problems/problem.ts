/** RFC 9457 problem details: every non-2xx answer of the API goes through here, one slug per kind of problem. */
import type { Context } from 'hono';

/** Base of the problem `type` URIs; each kind of problem has its own slug. */
export const PROBLEM_BASE = 'https://order-saga.dev/problems/';

/** Every kind of problem the API answers with: status, title and when it happens (for the docs). */
export const PROBLEM_TYPES = {
  'malformed-json': { status: 400, title: 'Malformed JSON', when: 'The body is not valid JSON.' },
  'invalid-parameter': {
    status: 400,
    title: 'Invalid parameter',
    when: 'A path, query or header parameter does not match its schema (`errors` lists them).',
  },
  'invalid-cursor': {
    status: 400,
    title: 'Invalid cursor',
    when: 'The listing `cursor` was altered, or belongs to other filters.',
  },
  unauthorized: { status: 401, title: 'Missing or invalid API key', when: 'No valid bearer key was sent.' },
  forbidden: { status: 403, title: 'Admin key required', when: 'A client key was used on an admin route.' },
  'origin-not-allowed': {
    status: 403,
    title: 'Origin not allowed',
    when: 'A browser page from an origin other than `CODEC_CORS_ORIGIN` called the codec server.',
  },
  'not-found': { status: 404, title: 'Not found', when: 'Unknown route, or no order with that id.' },
  'method-not-allowed': {
    status: 405,
    title: 'Method not allowed',
    when: 'The path exists but not with this method; `Allow` lists the methods it has.',
  },
  'order-not-cancellable': {
    status: 409,
    title: 'Order can no longer be cancelled',
    when: 'Shipping has started, or the order already ended; `orderStatus` says where it is.',
  },
  'precondition-failed': {
    status: 412,
    title: 'Precondition failed',
    when:
      'The `If-Match` (or `If-None-Match`) condition does not hold: the product changed since you read its `ETag`, ' +
      'or does (not) exist; the answer carries the current `ETag`.',
  },
  'body-too-large': { status: 413, title: 'Body too large', when: 'The body is over the size limit.' },
  'unsupported-media-type': {
    status: 415,
    title: 'Unsupported content type',
    when: 'A route that takes a body got something other than `application/json`.',
  },
  validation: {
    status: 422,
    title: 'Invalid request body',
    when: 'The JSON body breaks the schema: missing or unknown fields, ranges, limits (`errors` lists them).',
  },
  'unknown-sku': {
    status: 422,
    title: 'Unknown SKU',
    when: 'An item names a SKU that is not in the catalog.',
  },
  'idempotency-key-reused': {
    status: 422,
    title: 'Idempotency-Key reused with a different request',
    when: 'The key was first used with another body.',
  },
  'idempotency-key-expired': {
    status: 422,
    title: 'Idempotency-Key expired',
    when: 'The key belongs to an order whose saga history is no longer retained; use a new key.',
  },
  'payload-not-decryptable': {
    status: 422,
    title: 'Payload cannot be decrypted',
    when: 'A payload sent to the codec server names a key id that is not configured, or fails authentication.',
  },
  'precondition-required': {
    status: 428,
    title: 'Precondition required',
    when: 'A `PUT` to an existing product without `If-Match`: send the `ETag` you read, or `If-Match: *` to overwrite.',
  },
  internal: { status: 500, title: 'Internal error', when: 'A bug; it is logged. Never caused by input.' },
  'temporal-unavailable': {
    status: 503,
    title: 'Service unavailable',
    when: 'The workflow engine cannot be reached; retry after `Retry-After` seconds.',
  },
  overloaded: {
    status: 503,
    title: 'Service overloaded',
    when: 'Too many requests are in progress; retry after `Retry-After` seconds (load shedding).',
  },
  'order-unavailable': {
    status: 503,
    title: 'Order temporarily unavailable',
    when:
      'The order is running, but no worker of its saga answered in time and nothing newer is recorded (reads), ' +
      'or no worker can take the cancel right now; retry after `Retry-After` seconds.',
  },
  'database-unavailable': {
    status: 503,
    title: 'Service unavailable',
    when: 'The database cannot be reached; retry after `Retry-After` seconds.',
  },
  'events-unavailable': {
    status: 503,
    title: 'Order events unavailable',
    when:
      'The event broker (NATS JetStream) is not configured on this API (`NATS_URL` unset) or did not answer in time; ' +
      'retry after `Retry-After` seconds.',
  },
} as const satisfies Record<string, { status: number; title: string; when: string }>;

/** Slug of a known kind of problem. */
export type ProblemSlug = keyof typeof PROBLEM_TYPES;

/** Every problem `type` URI, for the schema's enum. */
export const PROBLEM_TYPE_URIS = Object.keys(PROBLEM_TYPES).map((slug) => `${PROBLEM_BASE}${slug}`) as [
  string,
  ...string[],
];

/** One failing field of a validation problem, by dotted path. */
export interface FieldError {
  path: string;
  message: string;
}

/** Extensions a problem may carry, and response headers to send with it. */
export interface ProblemExtras {
  errors?: FieldError[];
  orderStatus?: string;
  /** The order a request may have created although its answer is an error (a start whose outcome is unknown). */
  orderId?: string;
  headers?: Record<string, string>;
}

/** An error a handler throws to answer with a specific problem. */
export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly slug: ProblemSlug,
    readonly detail: string,
    readonly extra: ProblemExtras = {},
  ) {
    super(detail);
    this.status = PROBLEM_TYPES[slug].status;
    this.title = PROBLEM_TYPES[slug].title;
  }
}

/** Builds the problem+json response for an error. */
export function problemResponse(c: Context, error: ProblemError): Response {
  const body = {
    type: `${PROBLEM_BASE}${error.slug}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    instance: c.req.path,
    ...(error.extra.errors ? { errors: error.extra.errors } : {}),
    ...(error.extra.orderStatus ? { orderStatus: error.extra.orderStatus } : {}),
    ...(error.extra.orderId ? { orderId: error.extra.orderId } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { 'content-type': 'application/problem+json', ...error.extra.headers },
  });
}

/** 404 for an unknown resource. */
export const notFound = (what: string) => new ProblemError('not-found', what);
