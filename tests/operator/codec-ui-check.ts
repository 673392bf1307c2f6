/**
 * `npm run security:ui-check`: proof that operators read encrypted orders in the Temporal UI through the codec
 * server. Starts a dev server whose UI points at the API's `/codec` (`--ui-codec-endpoint`), workers and the API
 * with payload encryption, places an order, checks its raw history holds no plaintext, then opens the order in
 * headless Chromium (Debian's, installed if missing) and waits until the decoded shipping address shows; then the
 * same page with the codec server unreachable shows only ciphertext. Screenshots go to .data/screenshots/.
 */

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { chromium } from 'playwright-core';
import { createConfiguredApp } from '../../api/configured-app.js';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { loadConfig, PROJECT_ROOT } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { createLogger } from '../../core/logger.js';
import { payloadKeysForRun } from '../../core/payload-keys.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { seedCatalog } from '../../db/seed.js';
import { ensureDebianPackage } from '../../harness/debian-packages.js';
import { startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
// @ts-expect-error plain JavaScript module without types (it runs before npm install)
import { ensureTemporalTools } from '../../harness/temporal-tools.mjs';
import { startWorkers } from '../../workers/worker-host.js';
import { CHROMIUM_ARGS, waitForTextInFrames } from './chromium.js';

const SCREENSHOT_DIR = path.join(PROJECT_ROOT, '.data', 'screenshots');
/** What the order carries and the UI must show in clear. */
const ADDRESS = {
  name: 'Ada Lovelace',
  line1: '12 Analytical Engine Street',
  city: 'London',
  postalCode: 'N1 9GU',
};
const TOKEN = 'tok_ui_check_4242';

const log = (line: string) => console.log(`[security-ui] ${line}`);

async function main(): Promise<void> {
  const tools = ensureTemporalTools() as { cli: string | null };
  if (!tools.cli) throw new Error('Temporal CLI unavailable: install Python 3 or set TEMPORAL_CLI_PATH');
  ensureDebianPackage('chromium', '/usr/bin/chromium', log);
  const [apiPort, uiPort] = [await freePort(), await freePort()];
  const devServer = await startDevServer({
    cli: tools.cli,
    port: await freePort(),
    uiPort,
    uiCodecEndpoint: `http://127.0.0.1:${apiPort}/codec`,
  });
  const uiUrl = devServer.uiUrl as string;
  const config = loadConfig({
    NODE_ENV: 'development',
    TEMPORAL_ADDRESS: devServer.address,
    LOG_LEVEL: 'warn',
    PAYLOAD_KEYS: payloadKeysForRun('ui-check-1'),
    CODEC_CORS_ORIGIN: uiUrl,
  });
  const logger = createLogger('security-ui', config.logLevel);
  const protection = loadPayloadProtection(config, logger);
  const database = await openDatabase({ pgliteDir: 'memory://' });
  await migrateDatabase(database);
  await seedCatalog(database.db);
  const workers = await startWorkers({
    services: [...SERVICE_NAMES],
    config,
    logger,
    db: database.db,
    dataConverter: protection.dataConverter,
  });
  const { app, temporal } = createConfiguredApp({ config, protection, database, logger });
  // Counted at the server: proof the page's decoded text came through the codec server, and from which origin.
  const codecCalls: string[] = [];
  const server = serve({
    fetch: (request: Request) => {
      if (request.method === 'POST' && new URL(request.url).pathname === '/codec/decode') {
        codecCalls.push(request.headers.get('origin') ?? '(no origin)');
      }
      return app.fetch(request);
    },
    hostname: '127.0.0.1',
    port: apiPort,
  });
  try {
    const response = await fetch(`http://127.0.0.1:${apiPort}/v1/orders?wait=30`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: 'cust-ui-check',
        items: [{ sku: 'MUG-RED', quantity: 2 }],
        payment: { token: TOKEN },
        shippingAddress: { ...ADDRESS, country: 'GB' },
      }),
    });
    const order = (await response.json()) as { orderId: string; status: string };
    log(`order ${order.orderId}: ${order.status}`);
    const workflowId = `order-${order.orderId}`;
    await assertRawHistorySealed(devServer.address, workflowId);
    const shots = await screenshotDecodedOrder(uiUrl, workflowId);
    if (codecCalls.length === 0)
      throw new Error('the UI showed the address without calling the codec server');
    log(
      `the UI called POST /codec/decode ${codecCalls.length} times, from ${[...new Set(codecCalls)].join(', ')}`,
    );
    for (const shot of shots) log(`screenshot: ${path.relative(PROJECT_ROOT, shot)}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await temporal.close();
    await workers.shutdown();
    await database.close();
    await devServer.stop();
  }
}

/** The server holds ciphertext only: what the UI shows next can only have come through the codec server. */
async function assertRawHistorySealed(address: string, workflowId: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    const raw = JSON.stringify(history, (_key, value) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
    );
    for (const secret of [ADDRESS.name, ADDRESS.line1, TOKEN]) {
      if (raw.includes(secret)) throw new Error(`raw history contains "${secret}" in clear`);
    }
    log('raw history: no name, address line or token in clear');
  } finally {
    await connection.close();
  }
}

/** Opens the order's page and its event history; returns the screenshots once the decoded address shows. */
async function screenshotDecodedOrder(uiUrl: string, workflowId: string): Promise<string[]> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1400 } });
  page.setDefaultTimeout(30_000);
  const shots: string[] = [];
  const shoot = async (name: string) => {
    const file = path.join(SCREENSHOT_DIR, name);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
  };
  try {
    await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}`);
    await waitForTextInFrames(page, ADDRESS.line1);
    await page.getByText(ADDRESS.line1).first().scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    await shoot('security-ui-decoded-input.png');
    log(`the UI shows "${ADDRESS.line1}"`);

    // The same page when the browser cannot reach the codec server: only what Temporal stores.
    const blocked = await browser.newPage({ viewport: { width: 1600, height: 1400 } });
    await blocked.route('**/codec/**', (route) => route.abort());
    await blocked.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}`);
    await blocked.getByText(workflowId).first().waitFor();
    await blocked.waitForTimeout(5_000);
    const file = path.join(SCREENSHOT_DIR, 'security-ui-without-codec.png');
    await blocked.screenshot({ path: file, fullPage: true });
    shots.push(file);
    const text = (await blocked.locator('body').textContent()) ?? '';
    if (text.includes(ADDRESS.line1)) throw new Error('the address shows even without the codec server');
    log('without the codec server the UI cannot show the address');
    return shots;
  } catch (err) {
    await shoot('security-ui-failure.png').catch(() => undefined);
    throw new Error(`UI check failed at ${page.url()}: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
