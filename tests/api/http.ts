/** A small HTTP client for API tests: JSON in, status/headers/JSON out, with a bearer key by default. */

/** Client id and key of the test stacks' default client. */
export const CLIENT_ID = 'test-app';
export const CLIENT_KEY = 'test-client-key';
/** A second client: its key must not see the first client's orders (404, absent from listings). */
export const OTHER_CLIENT_ID = 'other-app';
export const OTHER_CLIENT_KEY = 'other-client-key';
/** Admin client id and key of the test stacks (sees every client's orders). */
export const ADMIN_CLIENT_ID = 'test-admin';
export const ADMIN_KEY = 'test-admin-key';

/** Environment that turns auth on in a test stack: `clientId:key` pairs, two clients and one admin. */
export const AUTH_ENV = {
  API_KEYS: `${CLIENT_ID}:${CLIENT_KEY},${OTHER_CLIENT_ID}:${OTHER_CLIENT_KEY}`,
  ADMIN_API_KEYS: `${ADMIN_CLIENT_ID}:${ADMIN_KEY}`,
};

/** Body, headers and key of one test request. */
export interface CallOptions {
  /** A JSON value (serialised), or a raw string sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Bearer key; null sends no Authorization header. */
  key?: string | null;
}

/** What a test request got back. */
export interface CallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body; `{}` when empty or not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response JSON and assert on it.
  json: any;
  text: string;
  ms: number;
}

/** Sends one request to `baseUrl + path`. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const { body, key = CLIENT_KEY } = options;
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(key ? { authorization: `Bearer ${key}` } : {}),
    ...options.headers,
  };
  const started = Date.now();
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let json: CallResult['json'] = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = {};
  }
  return { status: response.status, headers: response.headers, json, text, ms: Date.now() - started };
}

/** A deliverable shipping address for test orders. */
export const ORDER_ADDRESS = {
  name: 'Ada Lovelace',
  line1: '12 Analytical St',
  city: 'London',
  postalCode: 'N1 9GU',
  country: 'GB',
};

/** A valid order body, with overrides. */
export function orderBody(overrides: Record<string, unknown> = {}) {
  return {
    customerId: 'cust-api',
    items: [{ sku: 'MUG-RED', quantity: 1 }],
    payment: { token: 'tok_ok' },
    shippingAddress: ORDER_ADDRESS,
    ...overrides,
  };
}

/** Expects an RFC 9457 body; returns its slug (`type` without the base). */
export function problemSlug(result: CallResult): string {
  const type = result.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${type}: ${result.text.slice(0, 200)}`);
  }
  const { json } = result;
  if (json.status !== result.status || typeof json.title !== 'string' || typeof json.detail !== 'string') {
    throw new Error(`not a problem body: ${result.text.slice(0, 200)}`);
  }
  return String(json.type).replace('https://order-saga.dev/problems/', '');
}

/** Repeats `attempt` until `ok` accepts its answer or `ms` have passed; returns the last answer either way. */
export async function eventually<T>(
  attempt: () => Promise<T>,
  ok: (value: T) => boolean,
  ms: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await attempt();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
