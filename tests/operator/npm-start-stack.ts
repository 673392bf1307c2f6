/**
 * The stack the observability check looks at: `npm start` on free ports with a fresh PGlite, pointed at a Temporal
 * dev server (with its Web UI) that this script starts on free ports, so nothing collides with a running stack.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, openSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../core/config.js';
import { payloadKeysForRun } from '../../core/payload-keys.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
// @ts-expect-error plain JavaScript module without types
import { ensureTemporalTools } from '../../harness/temporal-tools.mjs';

/** A running stack and where to find each of its endpoints. */
export interface CheckedStack {
  apiUrl: string;
  /** Where the Temporal SDK of the `npm start` process serves its metrics (host:port). */
  sdkMetricsAddress: string;
  temporalAddress: string;
  temporalUiUrl: string;
  /** The run's payload keys: a client reading results needs them, as the UI needs the codec server. */
  payloadKeys: string;
  stop(): Promise<void>;
}

async function waitForReady(url: string, child: ChildProcess, logFile: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}; see ${logFile}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`the stack was not ready at ${url}/readyz; see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Starts the Temporal dev server and `npm start`; logs of both go to files in `workDir`. */
export async function startCheckedStack(workDir: string): Promise<CheckedStack> {
  const tools = ensureTemporalTools() as { cli: string | null };
  if (!tools.cli) throw new Error('Temporal CLI unavailable: install Python 3 or set TEMPORAL_CLI_PATH');
  const temporalLog = createWriteStream(path.join(workDir, 'temporal.log'), { flags: 'a' });
  const [apiPort, sdkPort] = [await freePort(), await freePort()];
  // Payloads are encrypted: the UI reads them through the API's codec server.
  const devServer: DevServer = await startDevServer({
    cli: tools.cli,
    port: await freePort(),
    uiPort: await freePort(),
    uiCodecEndpoint: `http://127.0.0.1:${apiPort}/codec`,
    onOutput: (line) => temporalLog.write(`${line}\n`),
  });
  const payloadKeys = payloadKeysForRun('observability-1');
  const logFile = path.join(workDir, 'npm-start.log');
  const log = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    TEMPORAL_ADDRESS: devServer.address,
    TEMPORAL_METRICS_PORT: String(sdkPort),
    PGLITE_DIR: path.join(workDir, 'pglite'),
    LOG_LEVEL: 'info',
    API_KEYS: '',
    ADMIN_API_KEYS: '',
    PAYLOAD_KEYS: payloadKeys,
    CODEC_CORS_ORIGIN: devServer.uiUrl ?? '',
  };
  delete env.DATABASE_URL;
  // Own process group, so stopping it reaches npm, the start wrapper and the stack it runs.
  const child = spawn('npm', ['start'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', log, log],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopStack = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  try {
    await waitForReady(apiUrl, child, logFile, 180_000);
  } catch (err) {
    await stopStack();
    await devServer.stop();
    throw err;
  }
  return {
    apiUrl,
    sdkMetricsAddress: `127.0.0.1:${sdkPort}`,
    temporalAddress: devServer.address,
    temporalUiUrl: devServer.uiUrl ?? '',
    payloadKeys,
    async stop() {
      await stopStack();
      await devServer.stop();
      temporalLog.end();
    },
  };
}
