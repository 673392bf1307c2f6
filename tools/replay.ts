/**
 * `npm run replay -- --query '<visibility query>' [--limit N] [--workflow-id ID]... [--address host:port]`
 * Pulls workflow histories from a running Temporal server and replays them against the working tree's workflow
 * code; prints one row per workflow and exits non-zero on any failure, so it can gate a deploy.
 */
import { parseArgs } from 'node:util';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { type Client, Connection } from '@temporalio/client';
import { makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../core/config.js';
import { loadPayloadProtection } from '../core/data-converter.js';
import { createTemporalClient, temporalConnectionOptions } from '../core/temporal.js';
import { WORKFLOWS_PATH } from '../workers/service-worker.js';
import { WORKFLOW_TRACING_MODULE } from '../workers/worker-tracing.js';

const DEFAULT_QUERY = 'WorkflowType="orderSaga"';

/** Where the new code stopped matching the recorded history, e.g. `HistoryEvent(id: 12, UpsertWorkflowSearchAttributes)`. */
function firstDivergence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const detail =
    /Nondeterminism error: ([^"\n]*)/.exec(message)?.[1] ?? /Details: ([^\n]*)/.exec(message)?.[1] ?? message;
  return detail.replace(/\s+/g, ' ').slice(0, 200);
}

async function* historiesOf(client: Client, ids: string[], query: string, limit: number) {
  if (ids.length > 0) {
    for (const workflowId of ids) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      yield { workflowId, history } satisfies HistoryAndWorkflowId;
    }
    return;
  }
  let count = 0;
  for await (const item of client.workflow.list({ query, pageSize: Math.min(limit, 100) }).intoHistories()) {
    if (count >= limit) return;
    count += 1;
    yield item;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      query: { type: 'string', default: DEFAULT_QUERY },
      limit: { type: 'string', default: '500' },
      'workflow-id': { type: 'string', multiple: true, default: [] },
      address: { type: 'string' },
      namespace: { type: 'string' },
    },
  });
  const config = loadConfig();
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive integer');
  const noop = () => undefined;
  Runtime.install({
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } },
  });
  // Histories come back as stored (encrypted); the replaying worker opens them with the same keys as the workers.
  const { dataConverter } = loadPayloadProtection(config);
  const connection = await Connection.connect(
    temporalConnectionOptions({ ...config.temporal, address: values.address ?? config.temporal.address }),
  );
  const client = createTemporalClient(
    connection,
    { ...config, temporal: { ...config.temporal, namespace: values.namespace ?? config.temporal.namespace } },
    dataConverter,
  );
  const ids = values['workflow-id'] ?? [];
  const histories = historiesOf(client, ids, values.query ?? DEFAULT_QUERY, limit);

  const rows: Array<{ workflowId: string; result: string; divergence: string }> = [];
  for await (const result of Worker.runReplayHistories(
    // The workers' workflow interceptors too: a traced run replays only with them (workflows/tracing-interceptors.ts).
    {
      workflowsPath: WORKFLOWS_PATH,
      interceptors: { workflowModules: [WORKFLOW_TRACING_MODULE] },
      dataConverter,
    },
    histories,
  )) {
    rows.push({
      workflowId: result.workflowId,
      result: result.error ? 'FAILED' : 'ok',
      divergence: result.error ? firstDivergence(result.error) : '',
    });
  }
  await connection.close();

  const width = Math.max(11, ...rows.map((row) => row.workflowId.length));
  console.log(`${'workflow id'.padEnd(width)}  result  first divergence`);
  console.log(`${'-'.repeat(width)}  ------  ----------------`);
  for (const row of rows)
    console.log(`${row.workflowId.padEnd(width)}  ${row.result.padEnd(6)}  ${row.divergence}`);
  const failed = rows.filter((row) => row.result !== 'ok').length;
  console.log(`\n${rows.length} replayed, ${rows.length - failed} ok, ${failed} failed`);
  if (rows.length === 0)
    console.log('no workflow matched; check --query / --workflow-id and the server address');
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
