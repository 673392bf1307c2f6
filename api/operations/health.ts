/** Liveness and readiness: readiness checks Temporal and the database, each within a short deadline. */
import { createRoute } from '@hono/zod-openapi';
import type { Connection } from '@temporalio/client';
import type { Logger } from '../../core/logger.js';
import { createRouter } from '../router.js';
import { Health, Readiness } from './schemas.js';

/** What readiness probes and how long clients should wait when it fails. */
export interface ReadinessDeps {
  temporal: Connection;
  pingDatabase(): Promise<void>;
  retryAfterSeconds: number;
  /** False in production: a failed check answers `unavailable` and the reason goes to the log only. */
  exposeErrorDetails: boolean;
  logger: Logger;
}

/** How long each readiness probe may take. */
const CHECK_TIMEOUT_MS = 2_000;

async function check(run: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'healthz',
  tags: ['operations'],
  summary: 'Liveness: the process is up',
  security: [],
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: Health } } } },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readyz',
  tags: ['operations'],
  summary: 'Readiness: Temporal and the database answer',
  security: [],
  responses: {
    200: { description: 'Ready to serve orders', content: { 'application/json': { schema: Readiness } } },
    503: {
      description: 'A dependency does not answer; `checks` says which',
      headers: {
        'Retry-After': {
          description: 'Seconds before checking again.',
          required: true,
          schema: { type: 'string' as const },
        },
      },
      content: { 'application/json': { schema: Readiness } },
    },
  },
});

/** `/healthz` (the process is up) and `/readyz` (it can serve orders). */
export function healthRouter(deps: ReadinessDeps) {
  const router = createRouter();
  router.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  router.openapi(readyz, async (c) => {
    const [temporal, database] = await Promise.all([
      // The deadline ends the RPC itself, so probes during an outage do not pile up.
      check(() =>
        deps.temporal.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
          deps.temporal.healthService.check({}),
        ),
      ),
      check(() => deps.pingDatabase()),
    ]);
    c.header('cache-control', 'no-store');
    if (temporal === 'ok' && database === 'ok') {
      return c.json({ status: 'ready' as const, checks: { temporal, database } }, 200);
    }
    c.header('retry-after', String(deps.retryAfterSeconds));
    deps.logger.warn({ checks: { temporal, database } }, 'not ready');
    const shown = (result: string) => (result === 'ok' || deps.exposeErrorDetails ? result : 'unavailable');
    return c.json(
      { status: 'not ready' as const, checks: { temporal: shown(temporal), database: shown(database) } },
      503,
    );
  });
  return router;
}
