/**
 * The federated graph over HTTP against the real stack: a Temporal dev server, real workers, a real database,
 * NATS and the notifications consumer, the gateway at /graphql and the five subgraphs each on its own port.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGraphGateway, type GraphGateway } from '../../api/graphql/gateway.js';
import { type GraphSettings, PROJECT_ROOT } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { INTERNAL_TOKEN_HEADER } from '../../graph/caller.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import {
  ADMIN_KEY,
  AUTH_ENV,
  CLIENT_KEY,
  call,
  eventually,
  OTHER_CLIENT_KEY,
  orderBody,
} from '../api/http.js';

const INTERNAL_TOKEN = 'graph-internal-token-for-tests';
const OPERATIONS = path.join(PROJECT_ROOT, 'graph', 'operations');
const operation = (name: string) => readFileSync(path.join(OPERATIONS, `${name}.graphql`), 'utf8');

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    natsUrl: inject('natsUrl'),
    env: {
      ...AUTH_ENV,
      GRAPH_INTERNAL_TOKEN: INTERNAL_TOKEN,
      GRAPH_BREAKER_FAILURES: '2',
      GRAPH_BREAKER_OPEN_MS: '500',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

/** One GraphQL request to the gateway with a key (default: the default client's). */
async function graphql(
  query: string,
  variables: Record<string, unknown> = {},
  key: string | null = CLIENT_KEY,
) {
  return call(stack.baseUrl, 'POST', '/graphql', { body: { query, variables }, key });
}

/** Places an order over REST and waits for its end. */
async function placeFinished(key = CLIENT_KEY, overrides: Record<string, unknown> = {}): Promise<string> {
  const placed = await call(stack.baseUrl, 'POST', '/v1/orders?wait=30', {
    body: orderBody({ customerId: 'cust-graph', ...overrides }),
    key,
  });
  expect(placed.status).toBe(200);
  return placed.json.orderId as string;
}

/** Each subgraph's request count so far, from the API's /metrics. */
async function subgraphRequests(): Promise<Record<string, number>> {
  const metrics = await call(stack.baseUrl, 'GET', '/metrics', { key: null });
  const counts: Record<string, number> = {};
  for (const match of metrics.text.matchAll(
    /^graphql_subgraph_requests_total\{subgraph="(\w+)",outcome="(\w+)"\} (\d+)/gm,
  )) {
    const [, subgraph = '', , value = '0'] = match;
    counts[subgraph] = (counts[subgraph] ?? 0) + Number(value);
  }
  return counts;
}

describe('one graph over every service', () => {
  it('answers a page of orders across all five subgraphs with one request per subgraph', async () => {
    const ids = [
      await placeFinished(),
      await placeFinished(CLIENT_KEY, { items: [{ sku: 'BOOK-SAGA', quantity: 2 }] }),
    ];
    // The notifications arrive by events: wait for both orders' OrderCompleted.
    await eventually(
      () => graphql(operation('OrdersOverview'), { first: 10 }),
      (r) =>
        ids.every(
          (id) =>
            r.json.data?.orders.nodes.find((n: { id: string }) => n.id === id)?.notifications?.length > 0,
        ),
      20_000,
    );
    const before = await subgraphRequests();
    const page = await graphql(operation('OrdersOverview'), { first: 10 });
    const after = await subgraphRequests();
    expect(page.status).toBe(200);
    expect(page.json.errors).toBeUndefined();
    for (const subgraph of ['orders', 'inventory', 'payments', 'shipping', 'notifications']) {
      expect(after[subgraph] ?? 0, subgraph).toBe((before[subgraph] ?? 0) + 1);
    }
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the response JSON as it comes.
    const nodes = page.json.data.orders.nodes as Array<Record<string, any>>;
    expect(nodes.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) {
      const node = nodes.find((n) => n.id === id);
      const rest = await call(stack.baseUrl, 'GET', `/v1/orders/${id}`);
      // The same order through both front doors; payment and shipment as their own services recorded them.
      expect(node?.status).toBe('COMPLETED');
      expect(node?.totalCents).toBe(rest.json.totalCents);
      expect(node?.payment).toEqual({
        status: 'CHARGED',
        amountCents: rest.json.totalCents,
        refundedCents: 0,
      });
      expect(node?.shipment).toEqual({ status: 'CREATED', trackingId: rest.json.shipment.trackingId });
      expect(node?.notifications.map((n: { kind: string }) => n.kind)).toEqual(['OrderCompleted']);
      expect(['Red mug', 'Book: Sagas in practice']).toContain(node?.items[0].product.name);
    }
  });

  it('places an order with placeOrder and shows the saga progressing to its end', async () => {
    const key = `graph-${Date.now()}`;
    const input = orderBody({ customerId: 'cust-graph' });
    const placed = await graphql(operation('PlaceOrder'), { input, idempotencyKey: key });
    expect(placed.json.errors).toBeUndefined();
    const { order, created } = placed.json.data.placeOrder;
    expect(created).toBe(true);
    expect(order.id).toMatch(/^ord_/);
    // The same key and body is the same order (no second saga); another body with that key is refused.
    const again = await graphql(operation('PlaceOrder'), { input, idempotencyKey: key });
    expect(again.json.data.placeOrder).toMatchObject({ created: false, order: { id: order.id } });
    const reused = await graphql(operation('PlaceOrder'), {
      input: { ...input, customerId: 'someone-else' },
      idempotencyKey: key,
    });
    expect(reused.json.errors[0].extensions.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const seen = new Set<string>();
    const done = await eventually(
      async () => {
        const read = await graphql(operation('OrderDetail'), { id: order.id });
        seen.add(read.json.data?.order?.status);
        return read;
      },
      (r) => r.json.data?.order?.status === 'COMPLETED',
      30_000,
      50,
    );
    const detail = done.json.data.order;
    expect(detail.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'reserveStock:SUCCEEDED',
      'chargePayment:SUCCEEDED',
      'createShipment:SUCCEEDED',
      'commitStock:SUCCEEDED',
    ]);
    expect(detail.payment.status).toBe('CHARGED');
    expect(seen.has('COMPLETED')).toBe(true);
  });

  it('answers bad input with GraphQL errors carrying stable codes, never a 500', async () => {
    const bad = await graphql(operation('PlaceOrder'), {
      input: orderBody({ items: [{ sku: 'MUG-RED', quantity: 0 }] }),
    });
    expect(bad.status).toBe(200);
    expect(bad.json.errors[0].extensions).toMatchObject({ code: 'VALIDATION', serviceName: 'orders' });
    expect(bad.json.errors[0].extensions.errors[0].path).toBe('input.items.0.quantity');
    // graphql-js quotes a rejected variable whole: the answer must not carry the payment token back.
    const { items: _items, ...noItems } = orderBody({ payment: { token: 'tok_secret_4242' } });
    const rejected = await graphql(operation('PlaceOrder'), { input: noItems });
    expect(rejected.json.errors[0].message).toMatch(
      /^Variable "\$input" got an invalid value; Field "items"/,
    );
    expect(rejected.text).not.toContain('tok_secret_4242');
    const unknownSku = await graphql(operation('PlaceOrder'), {
      input: orderBody({ items: [{ sku: 'NOPE', quantity: 1 }] }),
    });
    expect(unknownSku.json.errors[0].extensions.code).toBe('UNKNOWN_SKU');
    const malformed = await call(stack.baseUrl, 'POST', '/graphql', { body: '{"query": ', key: CLIENT_KEY });
    expect(malformed.status).toBe(400);
    expect(malformed.json.errors.length).toBeGreaterThan(0);
    const unknownField = await graphql('{ orders { nodes { nope } } }');
    expect(unknownField.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const badCursor = await graphql('query($after: String) { orders(after: $after) { nodes { id } } }', {
      after: 'not-a-cursor',
    });
    expect(badCursor.json.errors[0].extensions.code).toBe('INVALID_CURSOR');
    const plain = await call(stack.baseUrl, 'POST', '/graphql', {
      body: '{ products { sku } }',
      headers: { 'content-type': 'text/plain' },
      key: CLIENT_KEY,
    });
    expect(plain.status).toBe(415);
    expect(plain.json.errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const get = await call(stack.baseUrl, 'GET', '/graphql?query=%7Bproducts%7Bsku%7D%7D', {
      key: CLIENT_KEY,
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    // In dev a browser gets the GraphiQL page.
    const page = await call(stack.baseUrl, 'GET', '/graphql', {
      headers: { accept: 'text/html' },
      key: null,
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toMatch(/graphiql/i);
    const huge = await call(stack.baseUrl, 'POST', '/graphql', {
      body: { query: `{ products { sku } } # ${'x'.repeat(70_000)}` },
      key: CLIENT_KEY,
    });
    expect(huge.status).toBe(413);
    expect(huge.json.errors[0].extensions.code).toBe('BODY_TOO_LARGE');
  });
});

describe('the same keys and tenancy as REST', () => {
  it('refuses a request without a valid key, in GraphQL format', async () => {
    const none = await graphql('{ products { sku } }', {}, null);
    expect(none.status).toBe(401);
    expect(none.json.errors[0].extensions.code).toBe('UNAUTHORIZED');
    const wrong = await graphql('{ products { sku } }', {}, 'not-a-key');
    expect(wrong.status).toBe(401);
  });

  it("never shows another client's order, in a read, a listing or a cancel", async () => {
    const mine = await placeFinished();
    const theirs = await graphql(operation('OrderDetail'), { id: mine }, OTHER_CLIENT_KEY);
    expect(theirs.json.data.order).toBeNull();
    const listing = await graphql('{ orders(first: 100) { nodes { id } } }', {}, OTHER_CLIENT_KEY);
    expect(listing.json.data.orders.nodes.map((n: { id: string }) => n.id)).not.toContain(mine);
    const cancel = await graphql(operation('CancelOrder'), { id: mine }, OTHER_CLIENT_KEY);
    expect(cancel.json.errors[0].extensions.code).toBe('NOT_FOUND');
    const own = await graphql(operation('OrderDetail'), { id: mine });
    expect(own.json.data.order.id).toBe(mine);
    const admin = await graphql(operation('OrderDetail'), { id: mine }, ADMIN_KEY);
    expect(admin.json.data.order.id).toBe(mine);
    // A closed order cannot be cancelled: the same 409 rule as REST, as a code.
    const late = await graphql(operation('CancelOrder'), { id: mine });
    expect(late.json.errors[0].extensions.code).toBe('ORDER_NOT_CANCELLABLE');
  });

  it('keeps the subgraphs for the gateway: without the internal token they refuse, whatever the caller claims', async () => {
    const query = { query: '{ orders { nodes { id } } }' };
    const headers = { 'x-graph-client-id': 'test-admin', 'x-graph-client-role': 'admin' };
    const direct = await call(stack.subgraphUrls.orders, 'POST', '', { body: query, headers, key: null });
    expect(direct.status).toBe(401);
    expect(direct.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const withToken = await call(stack.subgraphUrls.orders, 'POST', '', {
      body: query,
      headers: { ...headers, [INTERNAL_TOKEN_HEADER]: INTERNAL_TOKEN },
      key: null,
    });
    expect(withToken.status).toBe(200);
  });
});

/** A second gateway over the stack's subgraphs with other settings, called directly (no HTTP server). */
function gatewayWith(settings: Partial<GraphSettings>, development = true) {
  return createGraphGateway({
    settings: {
      ...stack.config.graph,
      subgraphUrls: stack.subgraphUrls,
      ...settings,
    },
    development,
    logger: createLogger('graph-test', 'silent'),
    registry: new Registry(),
  });
}

async function ask(gateway: GraphGateway, body: Record<string, unknown>) {
  const response = await gateway.handle(
    new Request('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    }),
    { clientId: 'test-app', role: 'client' },
  );
  return { status: response.status, json: await response.json() };
}

describe('limits', () => {
  it('refuses an operation deeper than GRAPH_MAX_DEPTH before calling any subgraph', async () => {
    const registry = new Registry();
    const gateway = createGraphGateway({
      settings: { ...stack.config.graph, subgraphUrls: stack.subgraphUrls, maxDepth: 4 },
      development: true,
      logger: createLogger('graph-test', 'silent'),
      registry,
    });
    try {
      const deep = await ask(gateway, { query: '{ orders { nodes { items { product { name } } } } }' });
      expect(deep.json.data).toBeUndefined();
      expect(deep.json.errors[0].extensions.code).toBe('DEPTH_LIMIT_EXCEEDED');
      expect(await registry.getSingleMetricAsString('graphql_subgraph_requests_total')).not.toMatch(
        /subgraph=/,
      );
      const shallow = await ask(gateway, { query: '{ orders { nodes { items { sku } } } }' });
      expect(shallow.json.errors).toBeUndefined();
      expect(shallow.json.data.orders.nodes.length).toBeGreaterThan(0);
    } finally {
      await gateway.close();
    }
  });

  it('refuses an operation over the cost limit', async () => {
    const aliases = Array.from(
      { length: 60 },
      (_, i) => `o${i}: orders { nodes { id items { product { name } } notifications { kind } } }`,
    );
    const expensive = await graphql(`{ ${aliases.join(' ')} }`);
    expect(expensive.json.data).toBeUndefined();
    expect(expensive.json.errors[0].extensions.code).toBe('COST_LIMIT_EXCEEDED');
    expect(expensive.json.errors[0].message).toMatch(/cost limit of 1000 exceeded/i);
  });

  it('refuses an operation with more aliases than the limit', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `p${i}: products { sku }`);
    const many = await graphql(`{ ${aliases.join(' ')} }`);
    expect(many.json.data).toBeUndefined();
    expect(many.json.errors[0].extensions.code).toBe('ALIAS_LIMIT_EXCEEDED');
    const few = await graphql(`{ ${aliases.slice(0, 15).join(' ')} }`);
    expect(few.json.errors).toBeUndefined();
  });

  it('serves only the allow-listed operations with GRAPH_PERSISTED_ONLY, by their sha256', async () => {
    const gateway = gatewayWith({ persistedOnly: true });
    try {
      const adHoc = await ask(gateway, { query: '{ products { sku } }' });
      expect(adHoc.json.data).toBeUndefined();
      expect(adHoc.json.errors.length).toBeGreaterThan(0);
      const sha256Hash = createHash('sha256').update(operation('Products')).digest('hex');
      const persisted = await ask(gateway, { extensions: { persistedQuery: { version: 1, sha256Hash } } });
      expect(persisted.json.errors).toBeUndefined();
      expect(persisted.json.data.products.length).toBeGreaterThan(0);
      const unknown = await ask(gateway, {
        extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } },
      });
      expect(unknown.json.data).toBeUndefined();
    } finally {
      await gateway.close();
    }
  });

  it('has introspection in dev only', async () => {
    const production = gatewayWith({}, false);
    const development = gatewayWith({}, true);
    try {
      const introspect = { query: '{ __schema { queryType { name } } }' };
      expect((await ask(production, introspect)).json.errors[0].message).toMatch(/introspection/i);
      expect((await ask(development, introspect)).json.data.__schema.queryType.name).toBe('Query');
    } finally {
      await production.close();
      await development.close();
    }
  });
});

describe('a subgraph that hangs', () => {
  it('does not hold the gateway past its timeout, frees its sockets, then fails fast once the circuit opens', async () => {
    await placeFinished();
    // Reads what it is sent and never answers: a peer that hangs.
    const sockets = new Set<Socket>();
    let connections = 0;
    const hung = createServer((socket) => {
      connections += 1;
      sockets.add(socket);
      socket.resume();
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const { port } = hung.address() as AddressInfo;
    const gateway = gatewayWith({
      subgraphUrls: { ...stack.subgraphUrls, shipping: `http://127.0.0.1:${port}/graphql/shipping` },
      subgraphTimeoutMs: 1_000,
      breaker: { failures: 1_000, openMs: 60_000 },
    });
    try {
      const query = { query: '{ orders(first: 3) { nodes { id status shipment { status } } } }' };
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 10 }, () => ask(gateway, query)));
      const elapsed = Date.now() - started;
      // 10 concurrent requests, each bounded by the 1 s deadline (not queued one after another, not hung).
      expect(elapsed).toBeGreaterThanOrEqual(1_000);
      expect(elapsed).toBeLessThan(4_000);
      for (const answer of answers) {
        expect(answer.json.data.orders.nodes.length).toBeGreaterThan(0);
        expect(answer.json.data.orders.nodes[0].shipment).toBeNull();
        expect(answer.json.errors[0].extensions).toMatchObject({
          code: 'SUBGRAPH_TIMEOUT',
          serviceName: 'shipping',
        });
      }
      // The aborted calls' sockets are closed: nothing accumulates while the subgraph hangs.
      await eventually(
        async () => sockets.size,
        (open) => open === 0,
        5_000,
        50,
      );
      expect(sockets.size).toBe(0);
      expect(connections).toBeGreaterThan(0);
    } finally {
      await gateway.close();
    }
    const breaking = gatewayWith({
      subgraphUrls: { ...stack.subgraphUrls, shipping: `http://127.0.0.1:${port}/graphql/shipping` },
      subgraphTimeoutMs: 300,
      breaker: { failures: 2, openMs: 60_000 },
    });
    try {
      const query = { query: '{ orders(first: 3) { nodes { id shipment { status } } } }' };
      await ask(breaking, query);
      await ask(breaking, query);
      const before = connections;
      const started = Date.now();
      const fast = await ask(breaking, query);
      expect(Date.now() - started).toBeLessThan(250);
      expect(fast.json.errors[0].extensions).toMatchObject({
        code: 'SUBGRAPH_UNAVAILABLE',
        serviceName: 'shipping',
      });
      expect(connections).toBe(before);
    } finally {
      await breaking.close();
      hung.close();
      for (const socket of sockets) socket.destroy();
    }
  });
});

describe('a subgraph that is down', () => {
  it('gives the other fields and an error naming it, keeps /readyz up, and recovers when it returns', async () => {
    const id = await placeFinished();
    const query = '{ orders(first: 5) { nodes { id status payment { status } shipment { status } } } }';
    await stack.stopSubgraph('payments');
    try {
      const partial = await graphql(query);
      expect(partial.status).toBe(200);
      const node = partial.json.data.orders.nodes.find((n: { id: string }) => n.id === id);
      expect(node).toMatchObject({ id, status: 'COMPLETED', payment: null, shipment: { status: 'CREATED' } });
      expect(partial.json.errors.length).toBeGreaterThan(0);
      for (const error of partial.json.errors) {
        expect(error.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'payments' });
      }
      // Nothing about the call itself (its URL, its body, which could carry a payment token) reaches the client.
      expect(JSON.stringify(partial.json.errors)).not.toMatch(/"request"|"response"|x-graph|http:\/\//);
      const ready = await call(stack.baseUrl, 'GET', '/readyz', { key: null });
      expect(ready.status).toBe(200);
      // Two failures open the circuit (GRAPH_BREAKER_FAILURES=2): calls then fail at once, without a connection.
      await graphql(query);
      const refused = await graphql(query);
      expect(refused.json.errors[0].extensions.code).toBe('SUBGRAPH_UNAVAILABLE');
      expect(refused.json.data.orders.nodes.length).toBeGreaterThan(0);
    } finally {
      await stack.startSubgraph('payments');
    }
    const recovered = await eventually(
      () => graphql(query),
      (r) => r.json.errors === undefined,
      10_000,
      100,
    );
    expect(recovered.json.errors).toBeUndefined();
    expect(recovered.json.data.orders.nodes.find((n: { id: string }) => n.id === id).payment).toEqual({
      status: 'CHARGED',
    });
  });
});
