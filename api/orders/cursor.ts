/**
 * Opaque listing cursors: the position of the last row returned, bound to the filters it was made for and tagged with
 * an HMAC so an altered or foreign cursor is refused (400) instead of silently paging from somewhere else.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CursorPosition } from '../../db/queries/orders.js';
import { ProblemError } from '../problems/problem.js';

export type { CursorPosition };

// Stryker disable next-line Regex: without `^` a prefixed timestamp still fails isRealInstant's round trip through Date
const CREATED_AT = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ORDER_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** Length of the tag: 22 base64url characters, 132 of the HMAC's 256 bits. */
const TAG_LENGTH = 22;

/** Encodes a position for the filters in `scope`. */
export function encodeCursor(position: CursorPosition, scope: string, secret: string): string {
  const payload = Buffer.from(JSON.stringify({ t: position.createdAt, i: position.orderId })).toString(
    'base64url',
  );
  return `${payload}.${tag(payload, scope, secret)}`;
}

/** Decodes a cursor made for the same filters; 400 `invalid-cursor` for anything else. */
export function decodeCursor(cursor: string, scope: string, secret: string): CursorPosition {
  const invalid = new ProblemError(
    'invalid-cursor',
    'The cursor is not one this API issued for these filters; start again without a cursor',
    { errors: [{ path: 'cursor', message: 'invalid cursor' }] },
  );
  const [payload, given, ...rest] = cursor.split('.');
  if (!payload || !given || rest.length > 0) throw invalid;
  const expected = Buffer.from(tag(payload, scope, secret));
  const actual = Buffer.from(given);
  // timingSafeEqual throws on buffers of different lengths (a tag with multi-byte characters included).
  if (actual.length !== TAG_LENGTH || !timingSafeEqual(actual, expected)) throw invalid;
  // Signed does not mean well-formed (a secret shared with an older or buggy issuer): check everything in it. Buffer's
  // base64url decoding skips foreign characters and unused bits instead of failing, so only the canonical spelling
  // of the bytes is one this API made.
  const bytes = Buffer.from(payload, 'base64url');
  if (bytes.toString('base64url') !== payload) throw invalid;
  // Bytes that are not UTF-8 decode to U+FFFD, which neither a timestamp nor an order id accepts.
  let decoded: unknown;
  // Stryker disable BlockStatement: an unparsable payload, or none, leaves `decoded` undefined, refused alike below
  try {
    decoded = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid;
  }
  // Stryker restore BlockStatement
  const position = positionOf(decoded);
  if (!position) throw invalid;
  return position;
}

/** The position in a decoded payload: exactly `{ t, i }`, `t` a real instant, `i` an order id; else undefined. */
function positionOf(decoded: unknown): CursorPosition | undefined {
  if (decoded === null) return undefined;
  // Stryker disable next-line ConditionalExpression: a string, a number (or an array) fails the exact-keys check too
  if (typeof decoded !== 'object') return undefined;
  const keys = Object.keys(decoded);
  if (keys.length !== 2 || !Object.hasOwn(decoded, 't') || !Object.hasOwn(decoded, 'i')) return undefined;
  const { t, i } = decoded as { t: unknown; i: unknown };
  // Stryker disable next-line ConditionalExpression: a non-string `t` fails isRealInstant's pattern as well
  if (typeof t !== 'string') return undefined;
  if (!isRealInstant(t) || typeof i !== 'string' || !ORDER_ID.test(i)) return undefined;
  return { createdAt: t, orderId: i };
}

/**
 * Whether `text` is a timestamp in the stored form that names a real instant: the calendar and clock fields
 * round-trip through Date (no 30 February, hour 24 or second 60), in years 1–9999 (Postgres has no year 0).
 */
function isRealInstant(text: string): boolean {
  const match = CREATED_AT.exec(text);
  if (!match || Number(match[1]) < 1) return false;
  const milliseconds = `${text.slice(0, 23)}Z`;
  const parsed = new Date(milliseconds);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString() === milliseconds;
}

function tag(payload: string, scope: string, secret: string): string {
  return createHmac('sha256', secret).update(`${scope}\n${payload}`).digest('base64url').slice(0, TAG_LENGTH);
}
