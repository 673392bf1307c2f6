/**
 * Operators read encrypted orders in the Temporal UI through the API's codec server: the in-process stack with
 * payload encryption and a dev server whose UI decodes through the API's `/codec`, one order, its raw history
 * sealed, then headless Chromium showing the decoded address — and only ciphertext when the codec is unreachable.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type OrderState, orderWorkflowId } from '../../contracts/orders.js';
import { ENCRYPTED_ENCODING } from '../../core/payload-codec.js';
import { freePort } from '../../harness/free-port.js';
import { startTestStack, type TestStack } from '../../harness/in-process-stack.js';
import { waitForUrl } from '../../harness/wait-ready.js';
import { launchChromium, notShown, notShownInFrames, onPage, pageText } from './chromium.js';
import { OperatorReport } from './report.js';
import { stopAll } from './teardown.js';

/** What the order carries: the UI must show it in clear through the codec, the server must never hold it so. */
const ADDRESS = {
  name: 'Ada Lovelace',
  line1: '12 Analytical Engine Street',
  city: 'London',
  postalCode: 'N1 9GU',
};
const TOKEN = 'tok_ui_check_4242';
const SECRETS = [ADDRESS.name, ADDRESS.line1, TOKEN];
/** How long the page without codec gets to show anything it would show (it never gets the plaintext). */
const SETTLE_MS = 5_000;

const report = new OperatorReport('codec-ui');
let stackLog: WriteStream;
let stack: TestStack;
let uiUrl: string;
let workflowId: string;
let browser: Browser;

/** Every payload of the history's inputs and results, by where it sits, with its encoding. */
function payloadEncodings(
  history: temporal.api.history.v1.IHistory,
): Array<{ at: string; encoding: string }> {
  const decode = (bytes?: Uint8Array | null) => (bytes ? Buffer.from(bytes).toString('utf8') : '(none)');
  return (history.events ?? []).flatMap((event) => {
    const payloads = [
      ['workflow input', event.workflowExecutionStartedEventAttributes?.input],
      ['activity input', event.activityTaskScheduledEventAttributes?.input],
      ['activity result', event.activityTaskCompletedEventAttributes?.result],
      ['workflow result', event.workflowExecutionCompletedEventAttributes?.result],
    ] as const;
    return payloads.flatMap(([at, group]) =>
      (group?.payloads ?? []).map((p) => ({
        at: `${at} #${event.eventId}`,
        encoding: decode(p.metadata?.encoding),
      })),
    );
  });
}

describe('the Temporal UI reads encrypted orders through the codec server', () => {
  beforeAll(async () => {
    try {
      const [apiPort, uiPort] = [await freePort(), await freePort()];
      uiUrl = `http://127.0.0.1:${uiPort}`;
      stackLog = createWriteStream(report.file('stack.log'), { flags: 'a' });
      stack = await startTestStack({
        temporalCli: inject('temporalCli'),
        workflowBundlePath: inject('workflowBundlePath'),
        apiPort,
        temporalUi: { port: uiPort, codecEndpoint: `http://127.0.0.1:${apiPort}/codec` },
        // The browser calls the codec from the UI's origin.
        env: { CODEC_CORS_ORIGIN: uiUrl, LOG_LEVEL: 'info' },
        logDestination: stackLog,
      });
      const response = await fetch(`${stack.baseUrl}/v1/orders?wait=30`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          customerId: 'cust-ui-check',
          items: [{ sku: 'MUG-RED', quantity: 2 }],
          payment: { token: TOKEN },
          shippingAddress: { ...ADDRESS, country: 'GB' },
        }),
      });
      const order = (await response.json()) as OrderState;
      if (response.status !== 200 || order.status !== 'COMPLETED') {
        throw new Error(`the order did not complete: HTTP ${response.status} ${JSON.stringify(order)}`);
      }
      workflowId = orderWorkflowId(order.orderId);
      await waitForUrl(uiUrl, { timeoutMs: 30_000 });
      browser = await launchChromium();
    } catch (err) {
      report.failedSetup(err);
      throw err;
    }
  });

  afterEach(({ task }) => report.finish(task));

  afterAll(async () => {
    report.write();
    await stopAll([
      () => browser?.close(),
      () => stack?.stop(),
      () => new Promise<void>((resolve) => (stackLog ? stackLog.end(resolve) : resolve())),
    ]);
  }, 120_000);

  it('the raw history holds no name, address line or token in clear, every input and result sealed', async () => {
    const connection = await Connection.connect({ address: stack.devServer.address });
    try {
      // No data converter: what the server stores, as anyone with access to Temporal would read it.
      const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
      const raw = JSON.stringify(history, (_key, value) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
      );
      const encodings = payloadEncodings(history);
      const actual = {
        inClear: SECRETS.filter((secret) => raw.includes(secret)),
        unsealed: encodings.filter((p) => p.encoding !== ENCRYPTED_ENCODING),
        sealedPayloads: encodings.length > 0,
      };
      const expected = { inClear: [], unsealed: [], sealedPayloads: true };
      expect(report.compared(expected, actual)).toEqual(expected);
    } finally {
      await connection.close();
    }
  });

  it('the UI shows the decoded shipping address, fetched from its origin through POST /codec/decode', async () => {
    const calls: Array<Promise<{ origin: string | null; status: number }>> = [];
    const missing = await onPage(
      browser,
      `${uiUrl}/namespaces/default/workflows/${workflowId}`,
      report.file('decoded-input.png'),
      (page) => notShownInFrames(page, [ADDRESS.line1]),
      async (page) => {
        page.on('response', (response) => {
          const request = response.request();
          if (request.method() !== 'POST' || new URL(request.url()).pathname !== '/codec/decode') return;
          calls.push(request.headerValue('origin').then((origin) => ({ origin, status: response.status() })));
        });
      },
    );
    const answered = await Promise.all(calls);
    const actual = {
      missing,
      decodeCalls: answered.length > 0,
      origins: [...new Set(answered.map((c) => c.origin))],
      statuses: [...new Set(answered.map((c) => c.status))],
    };
    const expected = { missing: [], decodeCalls: true, origins: [uiUrl], statuses: [200] };
    expect(report.compared(expected, actual)).toEqual(expected);
  });

  it('with the codec server unreachable the UI shows only ciphertext', async () => {
    let blocked = 0;
    const actual = await onPage(
      browser,
      `${uiUrl}/namespaces/default/workflows/${workflowId}`,
      report.file('without-codec.png'),
      async (page) => {
        const missing = await notShown({ [workflowId]: page.getByText(workflowId) });
        await page.waitForTimeout(SETTLE_MS);
        const text = await pageText(page);
        return {
          missing,
          inClear: SECRETS.filter((secret) => text.includes(secret)),
          codecBlocked: blocked > 0,
        };
      },
      (page) =>
        page.route('**/codec/**', (route) => {
          blocked += 1;
          return route.abort();
        }),
    );
    const expected = { missing: [], inClear: [], codecBlocked: true };
    expect(report.compared(expected, actual)).toEqual(expected);
  });
});
