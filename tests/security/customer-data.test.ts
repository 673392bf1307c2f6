/**
 * Customer data end to end, on real stacks: with encryption on, an order's raw history (fetched without any codec)
 * holds no trace of the customer's name, address or payment token, even base64-decoded; the codec server over HTTP
 * gives them back; replay still works. The same check on a stack with encryption off finds them, so it can fail.
 * Failure messages and stack traces are encrypted too (a failed step may quote what it had at hand), both the ones
 * activity workers record and the ones the workflow bundle raises; clients with the data converter read them.
 * Neither stack's logs (debug level, API + workers + SDK) nor the payments ledger ever carry them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { orderWorkflowId } from '../../contracts/orders.js';
import { loadConfig } from '../../core/config.js';
import { temporalConnectionOptions } from '../../core/temporal.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import { writeWorkflowBundle } from '../../workers/workflow-bundle.js';
import type { CustomerSecrets } from './failing-workflow.js';
import {
  encodingOf,
  everyReadableString,
  type JsonPayload,
  payloadsIn,
  rawHistoryJson,
} from './history-text.js';

const OPERATOR_KEY = 'operator-key-e2e';
const logLines: string[] = [];
const logDestination = { write: (line: string) => logLines.push(line) };
let encrypted: TestStack;
let plain: TestStack;
const placed: string[] = [];

/** A customer whose every secret is unique to this run, so a match can only come from this order. */
function customer(country = 'GB') {
  const tag = randomBytes(6).toString('hex');
  return {
    secrets: { name: `Zelda Quimby ${tag}`, line1: `${tag} Hidden Orchard Road`, token: `tok_secret_${tag}` },
    country,
  };
}
type Customer = ReturnType<typeof customer>;

async function placeOrder(stack: TestStack, who: Customer): Promise<{ orderId: string; status: string }> {
  const response = await fetch(`${stack.baseUrl}/v1/orders?wait=30`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      customerId: 'cust-privacy',
      items: [{ sku: 'MUG-RED', quantity: 1 }],
      payment: { token: who.secrets.token },
      shippingAddress: {
        name: who.secrets.name,
        line1: who.secrets.line1,
        city: 'Leeds',
        postalCode: 'LS1 4AP',
        country: who.country,
      },
    }),
  });
  expect(response.status).toBe(200);
  const order = (await response.json()) as { orderId: string; status: string };
  placed.push(order.orderId);
  return order;
}

const found = (text: string, who: Customer) =>
  Object.values(who.secrets).filter((secret) => text.includes(secret));

/** Bundle of tests/security/failing-workflow.ts, built like the saga's (workers/workflow-bundle.ts). */
let failingBundle: string;

/** Secrets for a failed step's messages (unlike the order's, they may reach the SDK's own failure logs). */
function failureSecrets(): CustomerSecrets {
  const tag = randomBytes(6).toString('hex');
  return { inActivity: `Ursula Vantablack ${tag}`, inWorkflow: `${tag} Quiet Meadow Lane, Leeds` };
}

/**
 * Runs a workflow whose step fails quoting `secrets.inActivity` and which then fails quoting `secrets.inWorkflow`, on
 * a worker with the stack's data converter; returns what its client saw and the raw history.
 */
async function runFailingWorkflow(stack: TestStack, secrets: CustomerSecrets) {
  const connection = await NativeConnection.connect({ address: stack.devServer.address });
  const taskQueue = `failing-${randomBytes(4).toString('hex')}`;
  const workflowId = `failing-${randomBytes(6).toString('hex')}`;
  try {
    const worker = await Worker.create({
      connection,
      namespace: stack.config.temporal.namespace,
      taskQueue,
      workflowBundle: { codePath: failingBundle },
      dataConverter: stack.protection.dataConverter,
      activities: {
        async refuseWithCustomerData(secret: string) {
          throw ApplicationFailure.create({
            type: 'PaymentDeclined',
            nonRetryable: true,
            message: `card of ${secret} declined`,
          });
        },
      },
    });
    const error = await worker.runUntil(
      stack.client.workflow.execute('failsWithCustomerData', { taskQueue, workflowId, args: [secrets] }).then(
        () => undefined,
        (reason: unknown) => reason,
      ),
    );
    const history = await rawHistoryJson(
      stack.client.connection,
      stack.config.temporal.namespace,
      workflowId,
    );
    return { error, history };
  } finally {
    await connection.close();
  }
}

/** The failures recorded in a raw history JSON: activity task failures and the workflow's own, in order. */
function failuresIn(history: string): Array<{ message?: string; encodedAttributes?: JsonPayload }> {
  const events = (JSON.parse(history) as { events: Array<Record<string, { failure?: unknown }>> }).events;
  return events.flatMap((event) =>
    [event.activityTaskFailedEventAttributes, event.workflowExecutionFailedEventAttributes]
      .map((attributes) => attributes?.failure)
      .filter((failure): failure is { message?: string; encodedAttributes?: JsonPayload } => !!failure),
  );
}

/** Decodes payloads through a stack's codec server, as the Temporal UI does; returns their decoded data as text. */
async function decodeWithCodecServer(stack: TestStack, payloads: JsonPayload[]): Promise<string[]> {
  const response = await fetch(`${stack.baseUrl}/codec/decode`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-namespace': 'default',
      authorization: `Bearer ${OPERATOR_KEY}`,
    },
    body: JSON.stringify({ payloads }),
  });
  expect(response.status).toBe(200);
  const decoded = (await response.json()) as { payloads: JsonPayload[] };
  return decoded.payloads.map((payload) => Buffer.from(payload.data ?? '', 'base64').toString('utf8'));
}

beforeAll(async () => {
  const common = {
    temporalCli: inject('temporalCli'),
    workflowBundlePath: inject('workflowBundlePath'),
    logDestination,
  };
  failingBundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'failing-bundle-')), 'workflows.js');
  // Debug level everywhere: the most any log line could ever carry.
  [encrypted, plain] = await Promise.all([
    startTestStack({ ...common, env: { LOG_LEVEL: 'debug', CODEC_API_KEYS: OPERATOR_KEY } }),
    startTestStack({ ...common, env: { LOG_LEVEL: 'debug' }, encryption: false }),
    writeWorkflowBundle(failingBundle, {
      workflowsPath: fileURLToPath(new URL('./failing-workflow.ts', import.meta.url)),
      quiet: true,
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([encrypted?.stop(), plain?.stop()]);
});

describe('with payload encryption on', () => {
  const completed = customer();
  const compensated = customer('XX');
  const histories: Record<string, string> = {};

  beforeAll(async () => {
    const orders = [await placeOrder(encrypted, completed), await placeOrder(encrypted, compensated)];
    expect(orders.map((o) => o.status)).toEqual(['COMPLETED', 'FAILED']);
    for (const [who, order] of [
      ['completed', orders[0]],
      ['compensated', orders[1]],
    ] as const) {
      histories[who] = await rawHistoryJson(
        encrypted.client.connection,
        encrypted.config.temporal.namespace,
        orderWorkflowId(order?.orderId as string),
      );
    }
  });

  it('the raw history holds none of the name, address line or token, even base64-decoded', () => {
    for (const [history, who] of [
      [histories.completed, completed],
      [histories.compensated, compensated],
    ] as const) {
      const text = everyReadableString(history as string);
      expect(text.length).toBeGreaterThan(10_000);
      expect(found(text, who)).toEqual([]);
      const payloads = payloadsIn(history as string);
      const sealed = payloads.filter((p) => encodingOf(p) === 'binary/encrypted');
      // Everything but the indexed search attributes (OrderStatus, CustomerId) is sealed.
      expect(sealed.length).toBeGreaterThan(10);
      expect(
        payloads
          .filter((p) => encodingOf(p) !== 'binary/encrypted')
          .every((p) => encodingOf(p) === 'json/plain'),
      ).toBe(true);
    }
  });

  it('the codec server, over HTTP with an operator key, gives every secret back', async () => {
    const payloads = payloadsIn(histories.completed as string);
    const call = (authorization?: string) =>
      fetch(`${encrypted.baseUrl}/codec/decode`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-namespace': 'default',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ payloads }),
      });
    expect((await call()).status).toBe(401);
    const response = await call(`Bearer ${OPERATOR_KEY}`);
    expect(response.status).toBe(200);
    const decoded = (await response.json()) as { payloads: unknown[] };
    expect(decoded.payloads).toHaveLength(payloads.length);
    const text = everyReadableString(JSON.stringify(decoded));
    expect(found(text, completed).sort()).toEqual(Object.values(completed.secrets).sort());
  });

  it('replay opens the encrypted history with the workers` converter, and fails without it', async () => {
    const { historyFromJSON } = await import('@temporalio/common/lib/proto-utils.js');
    const history = historyFromJSON(JSON.parse(histories.compensated as string));
    const workflowBundle = { codePath: inject('workflowBundlePath') };
    await Worker.runReplayHistory(
      { workflowBundle, dataConverter: encrypted.protection.dataConverter },
      history,
    );
    await expect(Worker.runReplayHistory({ workflowBundle }, history)).rejects.toThrow();
  });

  it('a failed step`s message is encrypted in the history, and the codec server reads it back', async () => {
    // The undeliverable shipment of the compensated order: recorded by the shipping worker.
    const [undeliverable] = failuresIn(histories.compensated as string);
    expect(undeliverable?.message).toBe('Encoded failure');
    expect(everyReadableString(histories.compensated as string)).not.toContain('carrier does not deliver');
    const [attributes] = await decodeWithCodecServer(encrypted, [undeliverable?.encodedAttributes ?? {}]);
    expect(JSON.parse(attributes as string)).toMatchObject({
      message: expect.stringContaining('carrier does not deliver to country XX'),
      stack_trace: expect.any(String),
    });
  });

  it('failure messages quoting customer data (activity and workflow) are unreadable raw, readable with the converter', async () => {
    const secrets = failureSecrets();
    const { error, history } = await runFailingWorkflow(encrypted, secrets);

    const text = everyReadableString(history);
    expect(text).not.toContain(secrets.inActivity);
    expect(text).not.toContain(secrets.inWorkflow);
    const failures = failuresIn(history);
    expect(failures).toHaveLength(2);
    for (const failure of failures) {
      expect(failure.message).toBe('Encoded failure');
      expect(encodingOf(failure.encodedAttributes ?? {})).toBe('binary/encrypted');
    }

    // The client, with the data converter, reads the whole chain back.
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const workflowFailure = (error as WorkflowFailedError).cause;
    expect(workflowFailure).toBeInstanceOf(ApplicationFailure);
    expect(workflowFailure?.message).toBe(`cannot ship to ${secrets.inWorkflow}`);
    const activityFailure = workflowFailure?.cause;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect((activityFailure as ActivityFailure).cause?.message).toBe(
      `card of ${secrets.inActivity} declined`,
    );
    // So does the codec server (the Temporal UI's path).
    const decoded = await decodeWithCodecServer(
      encrypted,
      failures.map((failure) => failure.encodedAttributes ?? {}),
    );
    expect(decoded.join('\n')).toContain(secrets.inActivity);
    expect(decoded.join('\n')).toContain(secrets.inWorkflow);
  });

  it('the payments ledger keeps a fingerprint, never the token', async () => {
    const rows = await encrypted.database.db.execute(sql`select * from payments.ledger`);
    const text = JSON.stringify(rows);
    expect(text).toMatch(/"token_fingerprint":"[0-9a-f]{16}"/);
    expect(found(text, completed)).toEqual([]);
  });
});

describe('with payload encryption off (the check can fail)', () => {
  it('the same search of the raw history finds all three secrets, and no codec server is served', async () => {
    const who = customer();
    const order = await placeOrder(plain, who);
    expect(order.status).toBe('COMPLETED');
    const history = await rawHistoryJson(
      plain.client.connection,
      plain.config.temporal.namespace,
      orderWorkflowId(order.orderId),
    );
    expect(found(everyReadableString(history), who).sort()).toEqual(Object.values(who.secrets).sort());
    // Not in the JSON text itself: only decoding the payload bytes reveals them, which is why the check decodes.
    expect(found(history, who)).toEqual([]);
    const codec = await fetch(`${plain.baseUrl}/codec/decode`, { method: 'POST', body: '{}' });
    expect(codec.status).toBe(404);
  });

  it('the same search finds a failed step`s customer data in clear', async () => {
    const secrets = failureSecrets();
    const { error, history } = await runFailingWorkflow(plain, secrets);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const text = everyReadableString(history);
    expect(text).toContain(secrets.inActivity);
    expect(text).toContain(secrets.inWorkflow);
  });
});

describe('logs of both runs', () => {
  it('were captured at debug level and carry no name, address line or token', async () => {
    const text = logLines.join('');
    expect(logLines.length).toBeGreaterThan(20);
    expect(text).toContain('"level":20');
    for (const orderId of placed) expect(text).toContain(orderId);
    // Every customer's secrets are unique to this run; none may appear anywhere in any line.
    expect(text).not.toMatch(/Zelda Quimby|Hidden Orchard Road|tok_secret_/);
  });

  it('Temporal TLS settings reach the connection: TLS against this plaintext dev server fails', async () => {
    const tls = loadConfig({ TEMPORAL_ADDRESS: encrypted.devServer.address, TEMPORAL_TLS: 'true' });
    const options = temporalConnectionOptions(tls.temporal);
    expect(options.tls).toEqual({});
    await expect(Connection.connect({ ...options, connectTimeout: 2_000 })).rejects.toThrow();
    const clear = await Connection.connect({
      ...temporalConnectionOptions(encrypted.config.temporal),
      connectTimeout: 2_000,
    });
    await clear.close();
  });
});
