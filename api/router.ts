/** The router every part of the API is built on, so each answers invalid input with the same problem+json. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import type { AuthVariables } from './middleware/auth.js';
import { validationProblem } from './problems/error-handler.js';

/** What a request carries through the API: who is calling (set by the auth middleware under `/v1`). */
export type ApiEnv = { Variables: AuthVariables };

/** An empty router with the API's validation hook; `createApp` is one, and mounts the others with `app.route()`. */
export function createRouter<E extends Env = ApiEnv>() {
  return new OpenAPIHono<E>({ defaultHook: validationProblem });
}
