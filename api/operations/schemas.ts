/** Shapes of the operational endpoints: liveness and readiness. */
import { z } from '@hono/zod-openapi';

/** `/healthz` answer. */
export const Health = z.object({ status: z.literal('ok') }).openapi('Health');

/** `/readyz` answer: overall status and each dependency's check. */
export const Readiness = z
  .object({
    status: z.enum(['ready', 'not ready']),
    checks: z.object({
      temporal: z.string().openapi({ description: '`ok`, or why Temporal did not answer.' }),
      database: z.string().openapi({ description: '`ok`, or why the database did not answer.' }),
    }),
  })
  .openapi('Readiness', { example: { status: 'ready', checks: { temporal: 'ok', database: 'ok' } } });
