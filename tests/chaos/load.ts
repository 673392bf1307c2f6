/** The order load of a chaos run: the catalog, the seeded mix of scenarios and bad inputs, placing and draining. */
import type postgres from 'postgres';
import type { ChaosClient } from './client.js';
import type { AcceptedOrder } from './invariants.js';
import type { Rng } from './rng.js';

/** A product the run seeds before it starts. */
export interface CatalogProduct {
  sku: string;
  name: string;
  priceCents: number;
  available: number;
}

/** The catalog of a run: plenty of stock, and one scarce SKU so out-of-stock happens for real. */
export function chaosCatalog(orders: number): CatalogProduct[] {
  return [
    { sku: 'CH-MUG', name: 'Chaos mug', priceCents: 1200, available: 1_000_000 },
    { sku: 'CH-TEE', name: 'Chaos tee', priceCents: 2500, available: 1_000_000 },
    { sku: 'CH-BOOK', name: 'Chaos book', priceCents: 4000, available: 1_000_000 },
    {
      sku: 'CH-RARE',
      name: 'Chaos rarity',
      priceCents: 9900,
      available: Math.max(10, Math.floor(orders / 10)),
    },
  ];
}

/** Weights of what an order tries to provoke. */
export const SCENARIOS = {
  ok: 50,
  declined: 10,
  flaky: 10,
  undeliverable: 10,
  outOfStock: 8,
  cancel: 12,
} as const;
export type Scenario = keyof typeof SCENARIOS;

/** The body of order `i` for `scenario` (SKU and quantity drawn from `rng`). */
export function orderBody(rng: Rng, scenario: Scenario, i: number) {
  const sku = scenario === 'outOfStock' ? 'CH-RARE' : rng.pick(['CH-MUG', 'CH-TEE', 'CH-BOOK']);
  return {
    customerId: `chaos-${i % 50}`,
    items: [{ sku, quantity: scenario === 'outOfStock' ? 4 : rng.int(1, 3) }],
    payment: {
      token: scenario === 'declined' ? 'tok_declined' : scenario === 'flaky' ? 'tok_flaky' : 'tok_ok',
    },
    shippingAddress: {
      name: 'Chaos Monkey',
      line1: '1 Fault Line',
      city: 'Berlin',
      postalCode: '10115',
      country: scenario === 'undeliverable' ? 'XX' : 'DE',
    },
  };
}

/** A request the API must refuse without breaking. */
export interface BadInput {
  body: string;
  why: string;
}

/** The malformed requests sent before every 7th order; the first draws of a run's `rng`. */
export function badInputs(rng: Rng): BadInput[] {
  return [
    { body: '{"customerId": "x", "items": [', why: 'malformed JSON' },
    {
      body: JSON.stringify({ customerId: 'x', items: [{ sku: 'NOPE', quantity: 1 }] }),
      why: 'invalid body',
    },
    {
      body: JSON.stringify({ ...orderBody(rng, 'ok', 0), items: [{ sku: 'CH-MUG', quantity: 0 }] }),
      why: 'quantity 0',
    },
    {
      body: JSON.stringify({ ...orderBody(rng, 'ok', 0), items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] }),
      why: 'unknown SKU',
    },
    { body: 'x'.repeat(200_000), why: 'oversized' },
  ];
}

/** One order of the plan: its scenario, and the bad input sent before it, if any. */
export interface PlannedOrder {
  i: number;
  scenario: Scenario;
  badInput: BadInput | undefined;
  cancelDelayMs: number;
}

/** The seeded plan of `orders` orders (scenarios, then cancel delays, then bad inputs, in that draw order). */
export function planOrders(rng: Rng, orders: number, bad: BadInput[]): PlannedOrder[] {
  const scenarios = Array.from({ length: orders }, () => rng.weighted(SCENARIOS));
  const cancelDelays = scenarios.map(() => rng.int(0, 400));
  const badPicks = scenarios.map(() => rng.pick(bad));
  return scenarios.map((scenario, i) => ({
    i,
    scenario,
    badInput: i % 7 === 3 ? badPicks[i] : undefined,
    cancelDelayMs: cancelDelays[i] as number,
  }));
}

/** What placing the orders produced. */
export interface LoadResult {
  /** Orders the API accepted (the overload phase appends its own). */
  accepted: AcceptedOrder[];
  /** Answers other than acceptance: rejections, and the status of each cancel request. */
  outcomes: Record<string, number>;
  /** `<why> -> <status>` of each bad input sent. */
  badInputResults: Record<string, number>;
  placed: number;
  startedAt: number;
  placingSeconds: number;
}

/** A load in progress: how many orders it has placed so far, and its result. */
export interface RunningLoad {
  placed(): number;
  done: Promise<LoadResult>;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Places the plan's orders through `client`, `concurrency` at a time, as a well-behaved client would. */
export function placeOrders(options: {
  client: ChaosClient;
  rng: Rng;
  plan: PlannedOrder[];
  seed: number;
  concurrency: number;
  /** At most this many orders per second (so the load lasts as long as a fault schedule); undefined: as fast as answered. */
  ratePerSecond?: number | undefined;
}): RunningLoad {
  const { client, rng, plan, seed, concurrency, ratePerSecond } = options;
  const accepted: AcceptedOrder[] = [];
  const outcomes: Record<string, number> = {};
  const badInputResults: Record<string, number> = {};
  const startedAt = Date.now();
  let placed = 0;
  let cursor = 0;
  const lane = async () => {
    while (cursor < plan.length) {
      const { i, scenario, badInput, cancelDelayMs } = plan[cursor++] as PlannedOrder;
      if (ratePerSecond) await sleep(startedAt + (i * 1000) / ratePerSecond - Date.now());
      if (badInput) {
        const reply = await client.sendRaw('POST', '/v1/orders', badInput.body);
        bump(badInputResults, `${badInput.why} -> ${reply.status}`);
      }
      const key = `chaos-${seed}-${i}`;
      const reply = await client.send('POST', '/v1/orders', orderBody(rng, scenario, i), {
        'idempotency-key': key,
      });
      if (reply.status !== 202 && reply.status !== 200) {
        bump(outcomes, `rejected ${reply.status}`);
      } else {
        accepted.push({ key, orderId: String(reply.body?.orderId) });
        if (scenario === 'cancel') {
          await sleep(cancelDelayMs);
          const cancel = await client.send('POST', `/v1/orders/${reply.body?.orderId}/cancel`);
          bump(outcomes, `cancel -> ${cancel.status}`);
        }
      }
      placed += 1;
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, lane)).then(() => ({
    accepted,
    outcomes,
    badInputResults,
    placed,
    startedAt,
    placingSeconds: (Date.now() - startedAt) / 1000,
  }));
  return { placed: () => placed, done };
}

/** Waits until every accepted order has a row in a terminal state, or `timeoutSeconds` pass (the invariants tell). */
export async function drainOrders(sql: postgres.Sql, acceptedCount: number, timeoutSeconds: number) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    // A poll that fails (the harness's own connection lost to a Postgres restart the schedule made) is retried.
    const open = await sql`
      select count(*) filter (where status not in ('COMPLETED','FAILED','CANCELLED'))::int as open,
             count(*)::int as n
        from orders.orders`.then(
      ([row]) => (row?.open as number) + Math.max(0, acceptedCount - (row?.n as number)),
      () => undefined,
    );
    if (open === 0) return;
    await sleep(1000);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
