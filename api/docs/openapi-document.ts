/** The OpenAPI document's top level: description (limits, idempotency, errors), tags and the bearer scheme. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { API_LIMITS } from '../limits.js';
import { PROBLEM_BASE, PROBLEM_TYPES, type ProblemSlug } from '../problems/problem.js';

const problemTable = (Object.keys(PROBLEM_TYPES) as ProblemSlug[])
  .map((slug) => `| ${PROBLEM_TYPES[slug].status} | \`${slug}\` | ${PROBLEM_TYPES[slug].when} |`)
  .join('\n');

const DESCRIPTION = `Orders run as Temporal sagas across inventory, payments and shipping.

**Auth.** \`Authorization: Bearer <key>\` on every \`/v1\` route; \`PUT /v1/products/{sku}\` needs an admin key.
Each key belongs to a client (\`clientId:key\`); a client sees only its own orders (another's answer 404), admins all.
Operational routes (\`/healthz\`, \`/readyz\`, \`/metrics\`, \`/openapi.json\`, \`/docs\`) are open. The codec
server (\`/codec/decode\`, \`/codec/encode\`, when enabled) takes an operator key from \`CODEC_API_KEYS\`.

**Request ids.** Send \`X-Request-Id\` (up to 128 characters of \`[A-Za-z0-9_=-]\`) or get a generated one; it is
echoed on every answer and logged with it.

**Limits.** Body ≤ ${API_LIMITS.maxBodyBytes} bytes (413), 1–${API_LIMITS.maxItems} items per order, quantity
1–${API_LIMITS.maxQuantity}, \`wait\` ≤ ${API_LIMITS.maxWaitSeconds} s, page size 1–${API_LIMITS.maxPageSize},
Idempotency-Key ≤ ${API_LIMITS.maxIdempotencyKeyLength} printable ASCII characters.

**Unknown fields** in a JSON body are rejected with 422 (every body schema is closed), so a typo never passes
silently. Unknown query parameters are ignored.

**Idempotency.** \`Idempotency-Key\` on \`POST /v1/orders\`: the same key with the same body returns the same order
and starts nothing new (\`Idempotent-Replayed: true\`); with another body it is 422. Keys are scoped to the API key.

**Errors** are \`application/problem+json\` (RFC 9457); \`type\` is \`${PROBLEM_BASE}<slug>\`:

| status | slug | when |
| --- | --- | --- |
${problemTable}

Wrong methods on a known path get 405 with \`Allow\`. 503 always carries \`Retry-After\`.`;

/** Registers the security scheme and serves the document at `/openapi.json`. */
export function serveOpenApiDocument<E extends Env>(app: OpenAPIHono<E>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      'A key from `API_KEYS` (client) or `ADMIN_API_KEYS` (admin), configured as `clientId:key` pairs (at least 32 ' +
      'characters in production). Orders belong to the client that placed them: other clients get 404 and never ' +
      'list them, admin keys see all; idempotency keys are scoped to the client id, so they survive a key rotation.',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Order saga API', version: '1.0.0', description: DESCRIPTION },
    tags: [
      { name: 'orders', description: 'Place, follow, list and cancel orders' },
      { name: 'products', description: 'The catalog: prices and stock' },
      { name: 'operations', description: 'Health, readiness, metrics and these docs' },
      {
        name: 'codec',
        description: 'Codec server for the Temporal UI and CLI (operator key; see docs/SECURITY.md)',
      },
    ],
    security: [{ bearer: [] }],
  });
}
