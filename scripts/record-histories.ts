/**
 * `npm run histories:record`: runs each saga scenario against a real dev server and real workers, then writes
 * each workflow history as JSON under tests/histories/ for the replay gate.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode } from '@temporalio/worker';
import { orderWorkflowId } from '../contracts/orders.js';
import { PROJECT_ROOT } from '../core/config.js';
import { startTestStack } from '../tests/support/stack.js';
import { WORKFLOWS_PATH } from '../workers/service-worker.js';
// @ts-expect-error plain JavaScript module without types (it runs before npm install)
import { ensureTemporalTools } from './temporal-tools.mjs';

/** Where the committed histories live; the replay test reads every file here. */
export const HISTORIES_DIR = path.join(PROJECT_ROOT, 'tests', 'histories');

const address = {
  name: 'Replay Recorder',
  line1: '1 History Lane',
  city: 'Leeds',
  postalCode: 'LS1 1AA',
  country: 'GB',
};

interface Scenario {
  name: string;
  body: Record<string, unknown>;
  /** Runs after the order is accepted, e.g. to cancel it. */
  afterPlaced?: (orderId: string, baseUrl: string) => Promise<void>;
}

const base = {
  customerId: 'cust-replay',
  items: [{ sku: 'MUG-RED', quantity: 1 }],
  payment: { token: 'tok_ok' },
  shippingAddress: address,
};

const SCENARIOS: Scenario[] = [
  { name: 'completed', body: base },
  { name: 'out-of-stock', body: { ...base, items: [{ sku: 'LIMITED-1', quantity: 999 }] } },
  { name: 'declined', body: { ...base, payment: { token: 'tok_declined' } } },
  { name: 'undeliverable', body: { ...base, shippingAddress: { ...address, country: 'XX' } } },
  { name: 'flaky-payment', body: { ...base, payment: { token: 'tok_flaky' } } },
  {
    name: 'cancelled-before-shipping',
    body: { ...base, payment: { token: 'tok_flaky' } },
    afterPlaced: async (orderId, baseUrl) => {
      await fetch(`${baseUrl}/v1/orders/${orderId}/cancel`, { method: 'POST' });
    },
  },
];

async function main(): Promise<void> {
  const tools = ensureTemporalTools() as { cli: string | null };
  if (!tools.cli) throw new Error('Temporal CLI unavailable');
  const noop = () => undefined;
  const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
  const bundlePath = path.join(mkdtempSync(path.join(os.tmpdir(), 'record-')), 'workflows.js');
  writeFileSync(bundlePath, code);
  const stack = await startTestStack({
    temporalCli: tools.cli,
    workflowBundlePath: bundlePath,
    driver: 'pglite',
  });
  mkdirSync(HISTORIES_DIR, { recursive: true });
  try {
    for (const scenario of SCENARIOS) {
      const response = await fetch(`${stack.baseUrl}/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...scenario.body, customerId: `cust-replay-${scenario.name}` }),
      });
      const { orderId } = (await response.json()) as { orderId: string };
      await scenario.afterPlaced?.(orderId, stack.baseUrl);
      const handle = stack.client.workflow.getHandle(orderWorkflowId(orderId));
      const result = (await handle.result()) as { status: string };
      const history = await handle.fetchHistory();
      const file = path.join(HISTORIES_DIR, `${scenario.name}.json`);
      writeFileSync(file, `${historyToJSON(history)}\n`);
      console.log(
        `${scenario.name.padEnd(26)} ${result.status.padEnd(10)} ${history.events?.length ?? 0} events -> ${path.relative(PROJECT_ROOT, file)}`,
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
