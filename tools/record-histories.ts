/**
 * `npm run histories:record`: runs each saga scenario against a real dev server and real workers, then writes
 * each workflow history as JSON under tests/histories/ for the replay gate. Orders are started with the
 * Temporal client (as the API does), so recording does not depend on the HTTP layer.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import {
  type OrderInput,
  type OrderState,
  type OrderStatus,
  orderWorkflowId,
  type SagaPlacement,
  type StepName,
} from '../contracts/orders.js';
import { CUSTOMER_ID_KEY, ORDER_STATUS_KEY } from '../contracts/search-attributes.js';
import { PROJECT_ROOT } from '../core/config.js';
import type { Database } from '../db/client.js';
import { reservations } from '../db/schema/inventory.js';
import { SEED_PRODUCTS } from '../db/seed.js';
import { requireTemporalCli } from '../harness/dev-tools.mjs';
import { startTestStack } from '../harness/in-process-stack.js';
import { writeWorkflowBundle } from '../workers/workflow-bundle.js';
import {
  cancelOrderUpdate,
  getOrderQuery,
  resolveCompensationsUpdate,
  retryCompensationsUpdate,
} from '../workflows/definitions.js';
import { placementStart } from '../workflows/placement.js';

/** Where the committed histories live, one folder per shape of the saga; the replay test reads them all. */
export const HISTORIES_DIR = path.join(PROJECT_ROOT, 'tests', 'histories');

/** `--set <name>`: the folder this recording goes to, named for the saga's shape (keep older sets). */
/** `--placement colocated`: record colocated orders (the in-process stack hosts every service, so it runs them). */
const { values: cli } = parseArgs({
  options: {
    set: { type: 'string', default: 'trusted-outcomes' },
    placement: { type: 'string', default: 'distributed' },
  },
});
const SET_DIR = path.join(HISTORIES_DIR, cli.set ?? 'trusted-outcomes');
const PLACEMENT: SagaPlacement = cli.placement === 'colocated' ? 'colocated' : 'distributed';
if (cli.placement !== PLACEMENT)
  throw new Error(`--placement is distributed or colocated, not ${cli.placement}`);

/**
 * Every activity is slowed by this much while recording, so a cancel can land inside a chosen step. A colocated
 * order's query and cancel reach it only when the worker heartbeats the task running its steps (every 2.4 s), so
 * a step must outlast two heartbeats: one to see it running, one to take the cancel.
 */
const STEP_LATENCY_MS = PLACEMENT === 'colocated' ? 5_000 : 400;

type Saga = WorkflowHandle<(input: OrderInput) => Promise<OrderState>>;

interface Scenario {
  name: string;
  order?: { sku?: string; quantity?: number; token?: string; country?: string };
  /** Runs before the saga starts, e.g. to leave a tombstone for its order id. */
  before?: (db: Database, orderId: string) => Promise<void>;
  /** Runs once the saga started, e.g. to cancel it during a chosen step. */
  during?: (saga: Saga) => Promise<void>;
}

/** Waits until `step` is running (its activity in flight), so a cancel lands inside that step. */
async function waitForStep(saga: Saga, step: StepName): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { steps } = await saga.query(getOrderQuery);
    if (steps.some((s) => s.name === step && s.status === 'RUNNING')) return;
    if (Date.now() > deadline) throw new Error(`${saga.workflowId} never ran ${step}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Cancels while `step` runs; `accepted` says whether the saga must take the cancel. */
function cancelDuring(step: StepName, accepted: boolean) {
  return async (saga: Saga) => {
    await waitForStep(saga, step);
    const outcome = await saga.executeUpdate(cancelOrderUpdate).then(
      () => true,
      () => false,
    );
    if (outcome !== accepted)
      throw new Error(`cancel during ${step}: accepted=${outcome}, expected ${accepted}`);
  };
}

/** Waits until the saga holds the order for an operator. */
async function waitForStatus(saga: Saga, status: OrderStatus): Promise<void> {
  const deadline = Date.now() + 90_000;
  while ((await saga.query(getOrderQuery)).status !== status) {
    if (Date.now() > deadline) throw new Error(`${saga.workflowId} never became ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The refund is refused for good: an operator retries it once (refused again), then resolves it by hand. */
async function operatorRetriesThenResolves(saga: Saga): Promise<void> {
  await waitForStatus(saga, 'COMPENSATION_FAILED');
  await saga.executeUpdate(retryCompensationsUpdate);
  await waitForStatus(saga, 'COMPENSATING');
  await waitForStatus(saga, 'COMPENSATION_FAILED');
  await saga.executeUpdate(resolveCompensationsUpdate, { args: [{ note: 'refunded by hand (recording)' }] });
}

const SCENARIOS: Scenario[] = [
  { name: 'completed' },
  { name: 'out-of-stock', order: { sku: 'LIMITED-1', quantity: 999 } },
  { name: 'declined', order: { token: 'tok_declined' } },
  { name: 'undeliverable', order: { country: 'XX' } },
  { name: 'flaky-payment', order: { token: 'tok_flaky' } },
  { name: 'cancelled-while-reserving', during: cancelDuring('reserveStock', true) },
  { name: 'cancelled-while-charging', during: cancelDuring('chargePayment', true) },
  { name: 'cancel-refused-after-shipping', during: cancelDuring('createShipment', false) },
  { name: 'compensation-retried', order: { token: 'tok_refund_flaky', country: 'XX' } },
  {
    name: 'compensation-failed-resolved',
    order: { token: 'tok_refund_rejected', country: 'XX' },
    during: operatorRetriesThenResolves,
  },
  {
    name: 'step-voided',
    before: async (db, orderId) => {
      await db.insert(reservations).values({ orderId, status: 'RELEASED' });
    },
  },
];

function orderInputFor(scenario: Scenario): OrderInput {
  const sku = scenario.order?.sku ?? 'MUG-RED';
  const quantity = scenario.order?.quantity ?? 1;
  const unitPriceCents = SEED_PRODUCTS.find((product) => product.sku === sku)?.priceCents ?? 0;
  return {
    orderId: `ord_${scenario.name.replaceAll('-', '_')}_${Date.now()}`,
    customerId: `cust-replay-${scenario.name}`,
    items: [{ sku, quantity, unitPriceCents }],
    totalCents: quantity * unitPriceCents,
    paymentToken: scenario.order?.token ?? 'tok_ok',
    shippingAddress: {
      name: 'Replay Recorder',
      line1: '1 History Lane',
      city: 'Leeds',
      postalCode: 'LS1 1AA',
      country: scenario.order?.country ?? 'GB',
    },
    createdAt: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const temporalCli = requireTemporalCli();
  const bundlePath = path.join(mkdtempSync(path.join(os.tmpdir(), 'record-')), 'workflows.js');
  await writeWorkflowBundle(bundlePath, { quiet: true });
  // The system as tests run it (harness/in-process-stack.ts), on an in-memory PGlite.
  const stack = await startTestStack({
    temporalCli,
    workflowBundlePath: bundlePath,
    driver: 'pglite',
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', FAULT_LATENCY_MS: String(STEP_LATENCY_MS) },
    // The committed histories are fixtures with made-up customers: kept in clear so they replay without secrets
    // and diff readably. The replay gate still runs them through the encrypting converter (pass-through).
    encryption: false,
    // One worker host for every service, as `npm start` runs it: the only layout with a colocated worker.
    workerEndpoints: PLACEMENT === 'colocated',
  });
  const { client, database } = stack;
  mkdirSync(SET_DIR, { recursive: true });
  try {
    for (const scenario of SCENARIOS) {
      const input = orderInputFor(scenario);
      await scenario.before?.(database.db, input.orderId);
      const saga: Saga = await client.workflow.start('orderSaga', {
        ...placementStart(input, PLACEMENT),
        workflowId: orderWorkflowId(input.orderId),
        typedSearchAttributes: [
          { key: ORDER_STATUS_KEY, value: 'PENDING' },
          { key: CUSTOMER_ID_KEY, value: input.customerId },
        ],
      });
      await scenario.during?.(saga);
      const result = await saga.result();
      const history = await saga.fetchHistory();
      const file = path.join(SET_DIR, `${scenario.name}.json`);
      writeFileSync(file, `${historyToJSON(history)}\n`);
      const events = history.events?.length ?? 0;
      console.log(
        `${scenario.name.padEnd(30)} ${result.status.padEnd(10)} ${String(events).padStart(3)} events`,
      );
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
