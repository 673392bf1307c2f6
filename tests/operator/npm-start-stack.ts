/**
 * The stack the observability suite looks at: `npm start` on free ports with a fresh PGlite, pointed at a Temporal
 * dev server (with its Web UI decoding through the API's /codec) started here, so nothing collides with a running
 * stack.
 */
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { payloadKeysForRun } from '../../core/payload-keys.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
import { type ManagedProcess, startProcess } from '../../harness/processes.js';
import { waitForUrl } from '../../harness/wait-ready.js';

/** A running stack and where to find each of its endpoints. */
export interface NpmStartStack {
  apiUrl: string;
  /** Where the Temporal SDK of the `npm start` process serves its metrics (host:port). */
  sdkMetricsAddress: string;
  temporalAddress: string;
  temporalUiUrl: string;
  /** The run's payload keys: a client reading results needs them, as the UI needs the codec server. */
  payloadKeys: string;
  npmStart: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * What the stack needs: the Temporal CLI, the run's NATS server (so the stack starts none on 4222 with the
 * project's .data/nats), a folder for its PGlite, and a log file each for it and the dev server.
 */
export interface NpmStartStackOptions {
  temporalCli: string;
  natsUrl: string;
  dataDir: string;
  npmStartLog: string;
  temporalLog: string;
}

/** Starts the dev server, then `npm start` against it; resolves once the API's /readyz and the UI answer. */
export async function startNpmStartStack(options: NpmStartStackOptions): Promise<NpmStartStack> {
  const temporalLog = createWriteStream(options.temporalLog, { flags: 'a' });
  const [apiPort, sdkPort] = [await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  let devServer: DevServer | undefined;
  let npmStart: ManagedProcess | undefined;
  const stop = async () => {
    await npmStart?.stop(30_000);
    npmStart?.close();
    await devServer?.stop();
    temporalLog.end();
  };
  try {
    devServer = await startDevServer({
      cli: options.temporalCli,
      port: await freePort(),
      uiPort: await freePort(),
      uiCodecEndpoint: `${apiUrl}/codec`,
      onOutput: (line) => temporalLog.write(`${line}\n`),
    });
    const temporalUiUrl = devServer.uiUrl ?? '';
    const payloadKeys = payloadKeysForRun('observability-1');
    // Exactly this environment, as a shell with nothing exported would give it (a DATABASE_URL of the caller's
    // must not reach it: the stack runs on its own PGlite).
    npmStart = startProcess({
      name: 'npm start',
      command: 'npm',
      args: ['start'],
      cleanEnv: true,
      env: {
        HOME: process.env.HOME ?? os.homedir(),
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(apiPort),
        TEMPORAL_ADDRESS: devServer.address,
        NATS_URL: options.natsUrl,
        TEMPORAL_METRICS_PORT: String(sdkPort),
        PGLITE_DIR: path.join(options.dataDir, 'pglite'),
        LOG_LEVEL: 'info',
        API_KEYS: '',
        ADMIN_API_KEYS: '',
        PAYLOAD_KEYS: payloadKeys,
        CODEC_CORS_ORIGIN: temporalUiUrl,
        // The mix cancels an order while its charge waits between retries, which a distributed order takes at once
        // (its steps are activities the UI lists as pending); a colocated one takes cancels only between workflow
        // tasks (tests/e2e/orders.e2e.test.ts covers npm start's colocated placement, its metrics included).
        SAGA_PLACEMENT: 'distributed',
      },
      // Its own process group: stopping it reaches npm, the start wrapper and the stack they run.
      processGroup: true,
      logFile: options.npmStartLog,
    });
    await npmStart.waitReady(`${apiUrl}/readyz`, 180_000);
    await npmStart.waitReady(`http://127.0.0.1:${sdkPort}/metrics`, 30_000);
    await waitForUrl(temporalUiUrl, { timeoutMs: 30_000 });
    return {
      apiUrl,
      sdkMetricsAddress: `127.0.0.1:${sdkPort}`,
      temporalAddress: devServer.address,
      temporalUiUrl,
      payloadKeys,
      npmStart,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
