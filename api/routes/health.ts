/** Liveness and readiness: readiness checks Temporal and the database. */
import type { Connection } from '@temporalio/client';
import type { Env, Hono } from 'hono';

export interface ReadinessDeps {
  temporal: Connection;
  pingDatabase(): Promise<void>;
}

async function check(run: () => Promise<unknown>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/** Mounts `/healthz` (the process is up) and `/readyz` (it can serve orders). */
export function registerHealthRoutes<E extends Env>(app: Hono<E>, deps: ReadinessDeps) {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [temporal, database] = await Promise.all([
      check(() => deps.temporal.healthService.check({}), 2_000),
      check(() => deps.pingDatabase(), 2_000),
    ]);
    const ready = temporal === 'ok' && database === 'ok';
    c.header('cache-control', 'no-store');
    return c.json(
      { status: ready ? 'ready' : 'not ready', checks: { temporal, database } },
      ready ? 200 : 503,
    );
  });
}
