/**
 * The processes of a chaos run: a Temporal dev server on a SQLite file, a NATS JetStream server on a store of its
 * own, a fresh database on the real Postgres, the API, one supervised process per service worker (each runs its
 * service's outbox relay) and the notifications consumer. `stop()` removes every one of them, whatever state the
 * run left them in, and a topology that fails to start removes what it had started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { SERVICE_NAMES } from '../../contracts/services.js';
import { loadConfig } from '../../core/config.js';
import { loadPayloadProtection } from '../../core/data-converter.js';
import { payloadKeysForRun } from '../../core/payload-keys.js';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { upsertProduct } from '../../db/queries/catalog.js';
import { type DevServer, startDevServer } from '../../harness/dev-server.js';
import { freePort } from '../../harness/free-port.js';
import { type NatsServer, startNatsServer } from '../../harness/nats-server.js';
import { ensureNftables, networkNamespacesUnavailable } from '../../harness/netns.js';
import { ManagedProcess, supervisedSpec, tsxCommand } from '../../harness/processes.js';
import { createThrowawayPostgres } from '../../harness/throwaway-database.js';
import type { CatalogProduct } from './load.js';
import { ChaosNetwork } from './network.js';
import type { ChaosSettings } from './settings.js';

/** A running chaos topology. */
export interface ChaosTopology {
  databaseName: string;
  apiUrl: string;
  api: ManagedProcess;
  /** The worker processes by name: `worker-<service>` each, or the one `worker-colocated` with every service. */
  workers: ReadonlyMap<string, ManagedProcess>;
  /** The notifications consumer: it joins by events alone. */
  consumer: ManagedProcess;
  /** The API, the workers, then the consumer. */
  processes: readonly ManagedProcess[];
  /** Where each process's log is (`<name>.log`). */
  logDir: string;
  temporalAddress(): string;
  /** `nats://host:port` of the run's own NATS server (the same port across restarts). */
  natsUrl: string;
  /** Each process's namespace and links, when the run has network faults (`CHAOS_NETWORK`). */
  network: ChaosNetwork | undefined;
  /** Set once `stop()` began: a fault still in flight must not start anything again. */
  readonly stopping: boolean;
  /** Stops the dev server, waits `pauseMs`, starts it again on the same port and file. */
  restartTemporal(pauseMs: number): Promise<void>;
  /** Stops the NATS server (SIGTERM), waits `pauseMs`, starts it again on the same port and store. */
  restartNats(pauseMs: number): Promise<void>;
  /** A client of the run's database (opened on first use, closed by `stop()`). */
  sql(): postgres.Sql;
  /** A Temporal client with the run's payload keys (connected on first use, closed by `stop()`). */
  temporal(): Promise<Client>;
  /** Tears everything down in reverse order; every step runs even if one before it failed. */
  stop(): Promise<void>;
}

/** The longest one teardown step may take before the next one runs anyway. */
const TEARDOWN_STEP_MS = 20_000;

/** Starts the topology of a run and waits for the API's /readyz. */
export async function startChaosTopology(options: {
  settings: ChaosSettings;
  temporalCli: string;
  natsServerBinary: string;
  workflowBundlePath: string;
  logDir: string;
  catalog: CatalogProduct[];
}): Promise<ChaosTopology> {
  const { settings, temporalCli, natsServerBinary, workflowBundlePath, logDir, catalog } = options;
  if (!settings.databaseUrl) throw new Error('set TEST_DATABASE_URL or DATABASE_URL to a Postgres server');
  const teardown: Array<{ what: string; run: () => Promise<void> | void }> = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    const failures: string[] = [];
    for (const step of teardown.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        // A step that hangs must not keep the others (stopping the processes above all) from running.
        await Promise.race([
          step.run(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`still running after ${TEARDOWN_STEP_MS / 1000} s`)),
              TEARDOWN_STEP_MS,
            );
          }),
        ]);
      } catch (error) {
        failures.push(`${step.what}: ${(error as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
    if (failures.length > 0) throw new Error(`chaos teardown failed:\n${failures.join('\n')}`);
  };

  try {
    // A database of its own on the real Postgres server.
    const database = await createThrowawayPostgres(settings.databaseUrl, `chaos_${settings.seed}`);
    teardown.push({ what: `drop database ${database.name}`, run: () => database.drop() });
    const setup = await openDatabase({ url: database.url, poolSize: 2 });
    try {
      await migrateDatabase(setup);
      for (const product of catalog) await upsertProduct(setup.db, product);
    } finally {
      await setup.close();
    }

    const temporalDir = mkdtempSync(path.join(os.tmpdir(), 'order-saga-chaos-temporal-'));
    teardown.push({
      what: 'remove the Temporal database file',
      run: () => rmSync(temporalDir, { recursive: true, force: true }),
    });
    const temporalPort = await freePort();
    const startTemporal = () =>
      startDevServer({
        cli: temporalCli,
        port: temporalPort,
        dbFile: path.join(temporalDir, 'temporal.sqlite'),
      });
    let devServer: DevServer | undefined = await startTemporal();
    teardown.push({ what: 'stop the Temporal dev server', run: () => devServer?.stop() });

    // NATS of its own (the suite's shared server holds other tests' streams): fixed ports and store, so a restart
    // comes back where the relays and the consumer reconnect to, with every stored event.
    const natsDir = mkdtempSync(path.join(os.tmpdir(), 'order-saga-chaos-nats-'));
    teardown.push({
      what: 'remove the NATS store',
      run: () => rmSync(natsDir, { recursive: true, force: true }),
    });
    const natsPorts = { port: await freePort(), monitorPort: await freePort() };
    const startNats = () =>
      startNatsServer({ binary: natsServerBinary, ...natsPorts, storeDir: natsDir, name: 'chaos' });
    let natsServer: NatsServer | undefined = await startNats();
    teardown.push({ what: 'stop the NATS server', run: () => natsServer?.stop() });
    const natsUrl = natsServer.url;

    const apiPort = await freePort();
    const common: Record<string, string> = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: devServer.address,
      NATS_URL: natsUrl,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
      DATABASE_POOL_SIZE: '5',
      // Every process of the run seals payloads with the same key, as a deployment's Secret would give them.
      PAYLOAD_KEYS: payloadKeysForRun('chaos-1'),
      ...settings.productEnv,
    };
    // With network faults, each process runs in a namespace of its own and reaches every dependency over a link
    // the schedule can cut; without, all of them share the machine's loopback.
    let network: ChaosNetwork | undefined;
    if (settings.network) {
      const unavailable = networkNamespacesUnavailable();
      if (unavailable) throw new Error(`CHAOS_NETWORK: ${unavailable}`);
      ensureNftables((line) => console.log(`[chaos] ${line}`));
      const postgresUrl = new URL(database.url);
      const temporalUrl = new URL(`grpc://${devServer.address}`);
      network = new ChaosNetwork({
        postgres: { host: postgresUrl.hostname, port: Number(postgresUrl.port || 5432) },
        temporal: { host: temporalUrl.hostname, port: Number(temporalUrl.port) },
        nats: { host: '127.0.0.1', port: natsPorts.port },
      });
      const opened = network;
      teardown.push({ what: 'remove the network namespaces', run: () => opened.close() });
    }
    /** The command and environment of process `name`, inside its namespace when the run has one per process. */
    const placed = async (
      name: string,
      command: { command: string; args: string[] },
      env: Record<string, string>,
    ) => {
      if (!network) return { name, ...command, env: { ...common, ...env } };
      const link = await network.add(name);
      return {
        name,
        ...link.namespace.wrap(command.command, command.args),
        env: link.env({ ...common, ...env }),
      };
    };
    const api = new ManagedProcess(
      supervisedSpec(
        await placed('api', tsxCommand('api/server.ts'), {
          PORT: String(apiPort),
          // Inside its namespace the API must listen where the load reaches it, not on the namespace's loopback.
          ...(network ? { HOST: '0.0.0.0' } : {}),
          SAGA_PLACEMENT: settings.placement,
        }),
        logDir,
      ),
    );
    // Distributed: a process per service. Colocated: one process with every service, as `npm start` runs it.
    const workerServices: [string, string][] =
      settings.placement === 'colocated'
        ? [['worker-colocated', 'all']]
        : SERVICE_NAMES.map((service) => [`worker-${service}`, service]);
    const workers = new Map<string, ManagedProcess>();
    for (const [name, services] of workerServices) {
      const spec = await placed(
        name,
        tsxCommand('workers/main.ts', ['--service', services, '--workflow-bundle', workflowBundlePath]),
        {
          FAULT_RATE: String(settings.faultRate),
          FAULT_AFTER_RATE: String(settings.afterFaultRate),
          FAULT_LATENCY_MS: String(settings.latencyMs),
          WORKER_HTTP_PORT: '0',
          TEMPORAL_METRICS_PORT: '0',
          SHUTDOWN_GRACE_SECONDS: '5',
        },
      );
      workers.set(name, new ManagedProcess(supervisedSpec(spec, logDir)));
    }
    const consumer = new ManagedProcess(
      supervisedSpec(
        await placed(
          'consumer-notifications',
          tsxCommand('consumers/notifications/main.ts', ['--service', 'notifications']),
          { CONSUMER_HTTP_PORT: '0', SHUTDOWN_GRACE_SECONDS: '5' },
        ),
        logDir,
      ),
    );
    const processes = [api, ...workers.values(), consumer];
    teardown.push({
      what: 'stop the API, the workers and the consumer',
      run: async () => {
        // No supervisor restarts from here on, then SIGTERM (SIGKILL after 10 s) to every one of them.
        const stopped = await Promise.allSettled(processes.map((proc) => proc.stop(10_000)));
        for (const proc of processes) proc.close();
        const failed = stopped.filter((s) => s.status === 'rejected');
        if (failed.length > 0) throw new Error(`${failed.length} processes did not stop`);
      },
    });
    for (const proc of processes) proc.start();
    const sampler = setInterval(() => {
      for (const proc of processes) proc.sampleMemory();
    }, 500);
    teardown.push({ what: 'stop sampling memory', run: () => clearInterval(sampler) });

    const apiUrl = `http://${network ? network.of('api').namespace.address : '127.0.0.1'}:${apiPort}`;
    await api.waitReady(`${apiUrl}/readyz`, 60_000);

    let sql: postgres.Sql | undefined;
    let temporal: Promise<Client> | undefined;
    return {
      databaseName: database.name,
      apiUrl,
      api,
      workers,
      consumer,
      processes,
      logDir,
      temporalAddress: () => (devServer as DevServer).address,
      natsUrl,
      network,
      get stopping() {
        return stopping;
      },
      async restartTemporal(pauseMs) {
        await devServer?.stop();
        devServer = undefined;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        if (!stopping) devServer = await startTemporal();
      },
      async restartNats(pauseMs) {
        await natsServer?.stop();
        natsServer = undefined;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        if (!stopping) natsServer = await startNats();
      },
      sql() {
        if (!sql) {
          const opened = postgres(database.url, { max: 2, onnotice: () => {} });
          // With a timeout: postgres.js's end() waits forever for a connection a Postgres restart closed mid-query.
          teardown.push({ what: 'close the SQL client', run: () => opened.end({ timeout: 5 }) });
          sql = opened;
        }
        return sql;
      },
      temporal() {
        temporal ??= Connection.connect({ address: (devServer as DevServer).address }).then((connection) => {
          teardown.push({ what: 'close the Temporal connection', run: () => connection.close() });
          return new Client({
            connection,
            dataConverter: loadPayloadProtection(loadConfig(common)).dataConverter,
          });
        });
        return temporal;
      },
      stop,
    };
  } catch (error) {
    await stop().catch((teardownError: Error) => console.error(teardownError.message));
    throw error;
  }
}
