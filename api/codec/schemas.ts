/** The codec server's body: Temporal payloads in proto3 JSON (every bytes field base64), as the Web UI and CLI send. */
import { z } from '@hono/zod-openapi';
import { API_LIMITS } from '../limits.js';

/** Standard or URL-safe base64, padded or not (proto3 JSON readers accept both). */
const Base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64')
  .openapi({ example: 'anNvbi9wbGFpbg==' });

/**
 * One payload. Unknown fields are dropped rather than refused: newer Temporal versions add fields to `Payload`,
 * and the UI must keep decoding; nothing outside `metadata` and `data` is read.
 */
export const CodecPayload = z
  .object({
    metadata: z
      .record(z.string().min(1).max(256), Base64)
      .optional()
      .openapi({ description: 'Metadata values, base64 (e.g. `encoding`).' }),
    data: Base64.optional().openapi({ description: 'Payload bytes, base64.' }),
  })
  .openapi('CodecPayload');

/** Request and response of `/codec/encode` and `/codec/decode`. */
export const CodecPayloads = z
  .object({ payloads: z.array(CodecPayload).max(API_LIMITS.maxCodecPayloads) })
  .openapi('CodecPayloads', {
    example: {
      payloads: [
        {
          metadata: { encoding: 'anNvbi9wbGFpbg==' },
          data: 'eyJoZWxsbyI6IndvcmxkIn0=',
        },
      ],
    },
  });

/** The `X-Namespace` header the UI sends; informational (one key set serves every namespace). */
export const CodecHeaders = z.object({
  'x-namespace': z.string().max(255).optional().openapi({ description: 'Namespace of the payloads.' }),
});
