/** Runs one saga on a test environment with stub activities on all four queues (workflow-level tests). */
import type { WorkflowHandle, WorkflowStartOptions } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createColocatedActivities } from '../../activities/colocated.js';
import { INVENTORY_QUEUE } from '../../contracts/inventory.js';
import {
  COLOCATED_QUEUE,
  ORDERS_QUEUE,
  type OrderInput,
  type OrderState,
  orderWorkflowId,
  type SagaPlacement,
} from '../../contracts/orders.js';
import { PAYMENTS_QUEUE } from '../../contracts/payments.js';
import { SHIPPING_QUEUE } from '../../contracts/shipping.js';
import { placementStart } from '../../workflows/placement.js';
import { installQuietRuntime } from './quiet-runtime.js';
import { registerSearchAttributes } from './search-attributes.js';
import type { StubServices } from './stub-services.js';

let counter = 0;

/** A time-skipping test server (the binary at `testServerPath`) with the saga's search attributes registered. */
export async function startSagaTestEnvironment(testServerPath: string): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath } },
  });
  await registerSearchAttributes(env.connection);
  return env;
}

/** A valid saga input with a fresh order id. */
export function stubOrderInput(overrides: Partial<OrderInput> = {}): OrderInput {
  counter += 1;
  return {
    orderId: `ord_test${Date.now()}${counter}`,
    customerId: 'cust-1',
    items: [{ sku: 'MUG-RED', quantity: 2, unitPriceCents: 1000 }],
    totalCents: 2000,
    paymentToken: 'tok_ok',
    shippingAddress: { name: 'Ada', line1: '1 St', city: 'London', postalCode: 'N1', country: 'GB' },
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

export interface StubSagaRun {
  env: TestWorkflowEnvironment;
  /** Path of the bundled workflow code to run (a variant in evolution tests). */
  bundlePath: string;
  stubs: StubServices;
  input: OrderInput;
  /** Extra activities on the orders queue (e.g. a step a new version adds). */
  extraOrdersActivities?: object;
  /** Runs while the saga is in flight (cancel it, query it, ...). */
  drive?: (handle: WorkflowHandle) => Promise<void>;
  /** Distributed (default): a worker per service queue. Colocated: one worker with every stub, as production's. */
  placement?: SagaPlacement;
  /** Search attributes to start it with (the API starts every order with its customer and PENDING). */
  typedSearchAttributes?: WorkflowStartOptions['typedSearchAttributes'];
}

/** Starts the saga, lets `drive` act on it, and returns its final state and handle. */
export async function runStubSaga(run: StubSagaRun): Promise<{ state: OrderState; handle: WorkflowHandle }> {
  const { env, stubs, input } = run;
  const make = (taskQueue: string, activities: object, withWorkflows = false) =>
    Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities,
      ...(withWorkflows ? { workflowBundle: { codePath: run.bundlePath } } : {}),
    });
  const colocated = run.placement === 'colocated';
  const services = { ...stubs.orders, ...stubs.inventory, ...stubs.payments, ...stubs.shipping };
  const workers = await Promise.all(
    colocated
      ? [
          make(
            COLOCATED_QUEUE,
            {
              ...services,
              // The product's own, on the stubs: each call it makes is recorded as the stubs' own.
              ...createColocatedActivities(services),
            },
            true,
          ),
        ]
      : [
          make(ORDERS_QUEUE, { ...stubs.orders, ...run.extraOrdersActivities }, true),
          make(INVENTORY_QUEUE, stubs.inventory),
          make(PAYMENTS_QUEUE, stubs.payments),
          make(SHIPPING_QUEUE, stubs.shipping),
        ],
  );
  // Nest runUntil so every worker runs until the saga ends, then all shut down.
  let body = async () => {
    const handle = await env.client.workflow.start('orderSaga', {
      ...placementStart(input, run.placement ?? 'distributed'),
      workflowId: orderWorkflowId(input.orderId),
      ...(run.typedSearchAttributes ? { typedSearchAttributes: run.typedSearchAttributes } : {}),
    });
    await run.drive?.(handle);
    return { state: (await handle.result()) as OrderState, handle };
  };
  for (const worker of workers) {
    const inner = body;
    body = () => worker.runUntil(inner);
  }
  return body();
}

/** Polls until `condition` holds (for stubs that record from another async context). */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
