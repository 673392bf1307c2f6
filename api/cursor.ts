/**
 * Opaque listing cursors: the position of the last row returned, bound to the filters it was made for and tagged with
 * an HMAC so an altered or foreign cursor is refused (400) instead of silently paging from somewhere else.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ProblemError } from './problem.js';

/** Where the previous page ended: `(createdAt, orderId)` of its last row, newest first. */
export interface CursorPosition {
  /** Microsecond-precision UTC timestamp as stored, e.g. `2026-01-31T12:00:00.123456Z`. */
  createdAt: string;
  orderId: string;
}

const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ORDER_ID = /^[A-Za-z0-9_-]{1,100}$/;

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
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw invalid;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { t, i } = (decoded ?? {}) as { t?: unknown; i?: unknown };
  if (typeof t !== 'string' || !CREATED_AT.test(t) || typeof i !== 'string' || !ORDER_ID.test(i)) {
    throw invalid;
  }
  return { createdAt: t, orderId: i };
}

function tag(payload: string, scope: string, secret: string): string {
  return createHmac('sha256', secret).update(`${scope}\n${payload}`).digest('base64url').slice(0, 22);
}
