/**
 * The codec server (Temporal's Codec Server protocol): `POST /codec/decode` and `/codec/encode` let the Web UI and CLI
 * read encrypted histories. Decoding reveals customer data, so it takes an operator key (CODEC_API_KEYS), browsers
 * may call it only from the configured UI origin, and every call is logged (who, how many payloads, never what).
 */
import { createRoute } from '@hono/zod-openapi';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { CodecSettings } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { PayloadDecryptionError } from '../../core/payload-codec.js';
import { API_LIMITS } from '../limits.js';
import { bearerToken, digest, matches } from '../middleware/auth.js';
import { limitBody, requireJsonContentType } from '../middleware/json-body.js';
import { ProblemError } from '../problems/problem.js';
import { BODY_PROBLEMS, problemResponses } from '../problems/responses.js';
import { createRouter } from '../router.js';
import { CodecHeaders, CodecPayloads } from './schemas.js';

/** What the codec routes need: the process's codec and who may call it. */
export interface CodecServerDeps {
  codec: PayloadCodec;
  settings: CodecSettings;
}

/** The codec server a process mounts, or undefined when encryption or codec access is off. */
export function codecServerFor(
  settings: CodecSettings,
  codec: PayloadCodec | null,
): CodecServerDeps | undefined {
  return codec && settings.access !== 'off' ? { codec, settings } : undefined;
}

/** One line on how the codec server is exposed, for start logs and banners. */
export function describeCodecServer(
  settings: CodecSettings,
  codec: PayloadCodec | null,
  baseUrl: string,
): string {
  if (!codec) return 'off (payload encryption is off)';
  if (settings.access === 'off') return 'off (set CODEC_API_KEYS to serve it)';
  const who = settings.access === 'keys' ? 'CODEC_API_KEYS' : 'OPEN: dev mode without keys';
  return `${baseUrl}/codec (${who}; browsers from ${settings.corsOrigins.join(', ') || 'no origin'})`;
}

/** Headers the Temporal UI sends with codec calls; the preflight must allow them. */
export const CODEC_REQUEST_HEADERS = ['authorization', 'content-type', 'x-namespace'];

type JsonPayload = { metadata?: Record<string, string> | undefined; data?: string | undefined };

const fromJson = (payload: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
  ),
  data: Buffer.from(payload.data ?? '', 'base64'),
});

const toJson = (payload: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value).toString('base64'),
    ]),
  ),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});

/**
 * 403 for a browser page of an origin not in CODEC_CORS_ORIGIN (CORS alone would let a simple request through and
 * hide the answer). Only configuration counts: "same origin as this request" is not trusted, because the request's
 * host is whatever name the page used, and a DNS-rebinding page (attacker.example re-pointed at 127.0.0.1) is
 * same-origin with itself. Requests without an Origin (the CLI, curl) pass on to the key check.
 */
function refuseForeignOrigins(allowed: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowed.includes(origin)) {
      throw new ProblemError('origin-not-allowed', `Origin ${origin} may not call the codec server`);
    }
    return next();
  };
}

/** 401 unless the bearer key is one of CODEC_API_KEYS; passes everyone when access is `open` (dev mode). */
function requireOperatorKey(settings: CodecSettings): MiddlewareHandler<{ Variables: { operator: string } }> {
  const keys = settings.apiKeys.map(digest);
  return async (c, next) => {
    if (settings.access === 'open') {
      c.set('operator', 'anonymous');
      return next();
    }
    const token = bearerToken(c.req.header('authorization'));
    const candidate = token ? digest(token) : undefined;
    if (!candidate || !matches(candidate, keys)) {
      throw new ProblemError('unauthorized', 'Send `Authorization: Bearer <key from CODEC_API_KEYS>`', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    c.set('operator', candidate.toString('hex').slice(0, 16));
    return next();
  };
}

function codecRoute(direction: 'decode' | 'encode', settings: CodecSettings) {
  return createRoute({
    method: 'post',
    path: `/codec/${direction}`,
    operationId: direction === 'decode' ? 'codecDecode' : 'codecEncode',
    tags: ['codec'],
    summary:
      direction === 'decode'
        ? 'Decrypt payloads for the Temporal UI / CLI (operator key)'
        : 'Encrypt payloads for the Temporal UI / CLI (operator key)',
    description:
      'Temporal Codec Server protocol: the same `{ payloads }` shape in and out, bytes as base64. Payloads without ' +
      'the `binary/encrypted` marker pass through unchanged.',
    security: settings.access === 'keys' ? [{ codecKey: [] }] : [],
    middleware: [
      refuseForeignOrigins(settings.corsOrigins),
      requireOperatorKey(settings),
      requireJsonContentType,
      limitBody(API_LIMITS.maxCodecBodyBytes),
    ] as const,
    request: {
      headers: CodecHeaders,
      body: { required: true, content: { 'application/json': { schema: CodecPayloads } } },
    },
    responses: {
      200: {
        description: 'The payloads, transformed',
        content: { 'application/json': { schema: CodecPayloads } },
      },
      ...problemResponses(...BODY_PROBLEMS, 401, 403, 500),
    },
  });
}

/** The codec server (`/codec/*`) with CORS for the UI origin; mount it only when `settings.access` is not `off`. */
export function codecRouter(deps: CodecServerDeps, logger: Logger) {
  const { codec, settings } = deps;
  // Outside `/v1`: no client key, the route middleware names the operator instead.
  const router = createRouter<{ Variables: { operator: string } }>();
  router.use(
    '/codec/*',
    cors({
      origin: (origin) => (settings.corsOrigins.includes(origin) ? origin : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: CODEC_REQUEST_HEADERS,
      exposeHeaders: ['x-request-id'],
      // The UI's "include cross-origin credentials" setting sends cookies of an SSO proxy in front of the API.
      credentials: true,
      maxAge: 600,
    }),
  );
  if (settings.access === 'keys') {
    router.openAPIRegistry.registerComponent('securitySchemes', 'codecKey', {
      type: 'http',
      scheme: 'bearer',
      description: 'An operator key from `CODEC_API_KEYS` (decrypting reveals customer data).',
    });
  }
  for (const direction of ['decode', 'encode'] as const) {
    const route = codecRoute(direction, settings);
    router.openapi(route, async (c) => {
      const { payloads } = c.req.valid('json');
      let result: Payload[];
      try {
        result = await (direction === 'decode' ? codec.decode : codec.encode).call(
          codec,
          payloads.map(fromJson),
        );
      } catch (err) {
        if (err instanceof PayloadDecryptionError)
          throw new ProblemError('payload-not-decryptable', err.message);
        throw err;
      }
      logger.info(
        {
          operator: c.get('operator'),
          namespace: c.req.valid('header')['x-namespace'],
          payloads: payloads.length,
          requestId: c.get('requestId'),
        },
        `codec ${direction}`,
      );
      return c.json({ payloads: result.map(toJson) }, 200);
    });
  }
  return router;
}
