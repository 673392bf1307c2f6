/** Guards of routes that take a JSON body: the content type (415) and the size (413), before any parsing. */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ProblemError } from '../problems/problem.js';

/** `application/json`, optionally with parameters such as `charset=utf-8`. */
export const JSON_MEDIA_TYPE = /^application\/json\s*(;.*)?$/i;

/** 415 unless the request declares a JSON body. */
export const requireJsonContentType: MiddlewareHandler = async (c, next) => {
  if (!JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new ProblemError(
      'unsupported-media-type',
      'Send the body as application/json (with `Content-Type: application/json`)',
    );
  }
  return next();
};

/** 413 for bodies over `maxBytes`, by Content-Length or while reading a chunked body. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      // Close the connection: otherwise Node would read (and discard) the rest of a body of any size to keep it alive.
      throw new ProblemError('body-too-large', `Bodies are limited to ${maxBytes} bytes`, {
        headers: { connection: 'close' },
      });
    },
  });
}
