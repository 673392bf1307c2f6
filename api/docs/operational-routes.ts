/** OpenAPI entries for the routes served outside zod-openapi (metrics text, the document itself, the docs page). */
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { Problem } from '../problems/responses.js';

/** Documents `/metrics`, `/openapi.json`, `/asyncapi.json`, `/docs` and its assets so the document lists every route the API serves. */
export function documentOperationalRoutes<E extends Env>(app: OpenAPIHono<E>) {
  const registry = app.openAPIRegistry;
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics (text exposition format)',
    description:
      'HTTP requests and latency by method, route template and status, plus Node.js process metrics.',
    security: [],
    responses: {
      200: {
        description: 'Metrics',
        content: { 'text/plain': { schema: z.string().openapi({ example: 'http_requests_total{...} 3' }) } },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tags: ['operations'],
    summary: 'This OpenAPI 3.1 document',
    security: [],
    responses: {
      200: {
        description: 'The OpenAPI document',
        content: {
          'application/json': {
            schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
          },
        },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/asyncapi.json',
    operationId: 'asyncapi',
    tags: ['operations'],
    summary: 'The AsyncAPI 3 document of the event stream (CloudEvents on NATS JetStream)',
    security: [],
    responses: {
      200: {
        description: 'The AsyncAPI document, generated from the event contracts',
        content: {
          'application/json': {
            schema: z.looseObject({
              asyncapi: z.string(),
              info: z.looseObject({}),
              channels: z.looseObject({}),
            }),
          },
        },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    tags: ['operations'],
    summary: 'Interactive API documentation (Swagger UI)',
    security: [],
    responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
  });
  registry.registerPath({
    method: 'get',
    path: '/docs/assets/{file}',
    operationId: 'docsAsset',
    tags: ['operations'],
    summary: 'Static files of the docs page (served from the installed swagger-ui-dist, no CDN)',
    security: [],
    request: {
      params: z.object({
        file: z
          .enum(['swagger-ui.css', 'swagger-ui-bundle.js', 'init.js'])
          .openapi({ param: { name: 'file', in: 'path' } }),
      }),
    },
    responses: {
      200: {
        description: 'The file',
        content: { 'text/css': { schema: z.string() }, 'text/javascript': { schema: z.string() } },
      },
      404: {
        description: 'No such file',
        content: { 'application/problem+json': { schema: Problem } },
      },
    },
  });
}
